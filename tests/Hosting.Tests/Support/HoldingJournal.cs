using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// An in-memory journal whose writes a test holds, fails or rejects (per actor system, through
/// <see cref="For"/>), and which records every write it was asked for and every event it stored.
/// </summary>
public sealed class HoldingJournal : MemoryJournal
{
    private static readonly ConcurrentDictionary<ActorSystem, Control> Controls = new();

    /// <summary>The journal's hocon, named <c>akka.persistence.journal.holding</c>, with an in-memory snapshot store.</summary>
    public static string Hocon => $$"""
        akka.persistence.journal.plugin = "akka.persistence.journal.holding"
        akka.persistence.journal.holding {
          class = "{{typeof(HoldingJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """;

    public static Control For(ActorSystem system) => Controls.GetOrAdd(system, _ => new Control());

    protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        // Read on the journal's own thread, before the first await.
        var control = For(Context.System);
        var writes = messages.ToList();
        var events = writes.SelectMany(w => (IEnumerable<IPersistentRepresentation>)w.Payload).Select(p => p.Payload).ToList();
        control.Asked.Enqueue(events);
        await control.Gate;
        switch (control.Fails(events) ? WriteOutcome.Fail : control.Outcome)
        {
            case WriteOutcome.Fail:
                throw new IOException("the journal's disk is gone");
            case WriteOutcome.Reject:
                return [.. writes.Select(_ => new InvalidOperationException("the journal refuses this event"))];
        }

        var result = await base.WriteMessagesAsync(writes, cancellationToken);
        foreach (var evt in events) control.Stored.Enqueue(evt);
        return result;
    }

    public enum WriteOutcome
    {
        Store,
        Fail,
        Reject,
    }

    /// <summary>What one actor system's journal does with its writes, and what it was asked and stored.</summary>
    public sealed class Control
    {
        private volatile TaskCompletionSource _gate = Open();

        /// <summary>Each write asked for, as the events it carries (one write holds every event of one batch).</summary>
        public ConcurrentQueue<IReadOnlyList<object>> Asked { get; } = new();

        public ConcurrentQueue<object> Stored { get; } = new();

        public WriteOutcome Outcome { get; set; }

        /// <summary>Which writes fail whatever <see cref="Outcome"/> says, by the events they carry.</summary>
        public Func<IReadOnlyList<object>, bool> Fails { get; set; } = _ => false;

        public Task Gate => _gate.Task;

        /// <summary>Writes from now on wait until <see cref="Release"/>.</summary>
        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        /// <summary>Lets the writes waiting now go, and holds the ones after them.</summary>
        public void ReleaseWaitingOnly()
        {
            var waiting = _gate;
            Hold();
            waiting.TrySetResult();
        }

        private static TaskCompletionSource Open()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.SetResult();
            return open;
        }
    }
}
