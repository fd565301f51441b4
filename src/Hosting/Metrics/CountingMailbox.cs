using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Bank.Hosting.Metrics;

/// <summary>
/// Akka's unbounded mailbox, counting each message it takes in (<see cref="MailboxTraffic.OtherActors"/>), so that
/// `bank bench` can tell how many actor messages one call costs. A node runs every actor on it with
/// <see cref="EveryActorHocon"/>, except those whose props name a mailbox (the account actors: theirs counts too).
/// </summary>
public sealed class CountingMailbox : MailboxType, IProducesMessageQueue<CountingMessageQueue>
{
    /// <summary>Made once per actor system that uses it, as its first actor starts: the account actors count from then.</summary>
    public CountingMailbox(Settings settings, Config config) : base(settings, config) => MailboxTraffic.StartCounting();

    /// <summary>
    /// Puts this mailbox in place of Akka's default and of its deque-based one, which actors that stash ask for (the
    /// shards, the persistent actors): between them, every actor that does not name its own mailbox.
    /// </summary>
    public static readonly string EveryActorHocon =
        $"akka.actor.default-mailbox.mailbox-type = \"{Name}\"\n" +
        $"akka.actor.mailbox.unbounded-deque-based.mailbox-type = \"{Name}\"";

    private static string Name => $"{typeof(CountingMailbox).FullName}, {typeof(CountingMailbox).Assembly.GetName().Name}";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CountingMessageQueue(MailboxTraffic.OtherActors);
}

/// <summary>
/// A ConcurrentQueue of envelopes, as Akka's unbounded queue is, that counts every enqueue; envelopes put back at the
/// front (an unstash) wait on a stack before it and are not counted again, as in Akka's deque-based queue.
/// </summary>
public sealed class CountingMessageQueue(MessageCounter counter)
    : IMessageQueue, IUnboundedMessageQueueSemantics, IUnboundedDequeBasedMessageQueueSemantics
{
    private readonly ConcurrentQueue<Envelope> _queue = new();

    // Only the actor's own turn puts back and takes out, so the stack needs no lock; most actors never stash.
    private Stack<Envelope>? _putBack;

    public bool HasMessages => _putBack is { Count: > 0 } || !_queue.IsEmpty;

    public int Count => _queue.Count + (_putBack?.Count ?? 0);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        counter.Add();
        _queue.Enqueue(envelope);
    }

    public void EnqueueFirst(Envelope envelope) => (_putBack ??= new Stack<Envelope>()).Push(envelope);

    public bool TryDequeue(out Envelope envelope)
    {
        if (_putBack is { Count: > 0 })
        {
            envelope = _putBack.Pop();
            return true;
        }

        return _queue.TryDequeue(out envelope);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
