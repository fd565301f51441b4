using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.TestKit.Xunit2;
using Bank.Hosting.Journal;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// A node joins its cluster only once its journal has answered a recovery (so the shards it is given at once do not
/// meet a cold journal), and joins anyway when the journal does not answer within the warm-up timeout.
/// </summary>
public sealed class WarmJoinSpecs
{
    private static Config ConfigWith(string journal) => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.loglevel = INFO
        akka.persistence.journal.plugin = "akka.persistence.journal.{{journal}}"
        akka.persistence.journal.held {
          class = "{{typeof(HeldJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);

    [Fact]
    public void The_node_joins_after_its_journal_answered_a_recovery()
    {
        using var kit = new Kit(ConfigWith("held"));
        HeldJournal.Gates[kit.Sys] = new TaskCompletionSource();
        kit.Sys.ActorOf(Props.Create(() => new WarmJoin(Array.Empty<Address>(), TimeSpan.FromSeconds(30))), "warm-join");

        // The recovery's replay is held: no join yet.
        kit.AwaitCondition(() => HeldJournal.Asked.ContainsKey(kit.Sys), TimeSpan.FromSeconds(10));
        kit.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.NotEqual(MemberStatus.Up, Cluster.Get(kit.Sys).SelfMember.Status);

        HeldJournal.Gates[kit.Sys].SetResult();
        kit.AwaitCondition(() => Cluster.Get(kit.Sys).SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_journal_that_does_not_answer_keeps_the_node_out_only_until_the_warm_up_timeout()
    {
        using var kit = new Kit(ConfigWith("held"));
        HeldJournal.Gates[kit.Sys] = new TaskCompletionSource(); // never released
        kit.EventFilter.Warning(contains: "did not answer a recovery within").ExpectOne(TimeSpan.FromSeconds(10), () =>
            kit.Sys.ActorOf(Props.Create(() => new WarmJoin(Array.Empty<Address>(), TimeSpan.FromSeconds(1))), "warm-join"));
        kit.AwaitCondition(() => Cluster.Get(kit.Sys).SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10));
    }

    private sealed class Kit(Config config) : TestKit(config);

    /// <summary>An empty journal whose replays wait for their system's gate: a journal that has not answered yet.</summary>
    public sealed class HeldJournal : AsyncWriteJournal
    {
        public static readonly ConcurrentDictionary<ActorSystem, TaskCompletionSource> Gates = new();
        public static readonly ConcurrentDictionary<ActorSystem, bool> Asked = new();

        public override async Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr,
            long max, Action<IPersistentRepresentation> recoveryCallback)
        {
            Asked[context.System] = true;
            await Gates[context.System].Task;
        }

        public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
        {
            Asked[Context.System] = true;
            await Gates[Context.System].Task;
            return 0;
        }

        protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken) =>
            Task.FromResult<IImmutableList<Exception>>(null!);

        protected override Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
