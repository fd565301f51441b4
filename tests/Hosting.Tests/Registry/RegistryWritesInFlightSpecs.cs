using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Issue 19, opens: the registry keeps deciding while its writes are in flight, and answers nothing before what it
/// answers from is written. Its journal here holds, fails or rejects writes on demand (<see cref="HoldingJournal"/>);
/// its accounts are a stand-in that records what it is asked, in order.
/// </summary>
public sealed class RegistryWritesInFlightSpecs : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private readonly ConcurrentQueue<AccountRequest> _accountsAsked = new();
    private readonly HoldingJournal.Control _journal;
    // How many opens the accounts wait for before they answer them together (0: each at once); the test may change it.
    private volatile int _holdOpensUntil;

    public RegistryWritesInFlightSpecs()
        : base(ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.loglevel = WARNING
            {{HoldingJournal.Hocon}}
            """))
    {
        _journal = HoldingJournal.For(Sys);
    }

    [Fact]
    public void An_open_is_answered_only_once_its_registration_is_written()
    {
        var registry = StartRegistry();
        var opener = OpenHeldAtItsRegistration(registry, "held", "r-1");
        opener.ExpectNoMsg(Quiet);

        _journal.Release();
        Assert.Equal("held", opener.ExpectMsg<ActorInfo>().Name);
        Assert.Equal(1, Registered("held", _journal.Stored));
    }

    [Fact]
    public void A_lookup_and_a_refused_open_while_a_registration_is_in_flight_are_answered_after_it_is_written()
    {
        var registry = StartRegistry();
        var opener = OpenHeldAtItsRegistration(registry, "busy", "r-1");

        // Both are decided on the registration, which is not written yet.
        registry.Tell(new GetActor("busy"), TestActor);
        registry.Tell(Open("busy", "r-2"), TestActor);
        ExpectNoMsg(Quiet);

        _journal.Release();
        var opened = opener.ExpectMsg<ActorInfo>();
        Assert.Equal(opened.Id, ExpectMsg<ActorInfo>().Id);
        Assert.Equal(ErrorKind.AlreadyExists, ExpectMsg<Rejected>().Kind);
    }

    [Fact]
    public void An_open_resent_while_its_registration_is_in_flight_gets_the_first_answer_and_creates_one_account()
    {
        var registry = StartRegistry();
        var first = OpenHeldAtItsRegistration(registry, "resent", "r-1");

        registry.Tell(Open("resent", "r-1"), TestActor);
        ExpectNoMsg(Quiet);

        _journal.Release();
        var answered = first.ExpectMsg<ActorInfo>();
        Assert.Equal(answered, ExpectMsg<ActorInfo>());
        Assert.Equal(1, Registered("resent", _journal.Stored));
        Assert.Single(_accountsAsked, a => a.Command is OpenAccount);
    }

    [Fact]
    public void A_kill_resent_while_its_death_is_being_written_gets_the_first_answer()
    {
        var registry = StartRegistry();
        registry.Tell(Open("killed", "r-1"), TestActor);
        var opened = ExpectMsg<ActorInfo>();
        var killer = KillHeldAtItsDeath(registry, "killed", "r-2");

        registry.Tell(new KillActor("killed", DeathCauses.Killed, RequestId: "r-2"), TestActor);
        registry.Tell(new KillActor("other", DeathCauses.Killed, RequestId: "r-2"), killer);
        Assert.Equal(ErrorKind.RuleViolation, killer.ExpectMsg<Rejected>().Kind);
        ExpectNoMsg(Quiet);

        _journal.Release();
        var first = killer.ExpectMsg<ActorInfo>();
        Assert.Equal((opened.Id, ActorState.Dead), (first.Id, first.State));
        Assert.Equal(first, ExpectMsg<ActorInfo>());
        Assert.Single(_journal.Stored.OfType<ActorDeathRecorded>());
    }

    [Theory]
    [InlineData(HoldingJournal.WriteOutcome.Fail)]
    [InlineData(HoldingJournal.WriteOutcome.Reject)]
    public void A_lost_write_stops_the_registry_which_recovers_only_the_decisions_written(HoldingJournal.WriteOutcome outcome)
    {
        var registry = StartRegistry();
        registry.Tell(Open("kept", "r-1"), TestActor);
        var kept = ExpectMsg<ActorInfo>();

        var lost = OpenHeldAtItsRegistration(registry, "lost", "r-2");
        // Decided on the registration in flight: a lookup, answered only once it is written.
        registry.Tell(new GetActor("lost"), lost);
        _journal.Outcome = outcome;
        _journal.Release();

        lost.ExpectNoMsg(Quiet);
        _journal.Outcome = HoldingJournal.WriteOutcome.Store;
        // The supervisor starts the registry again; it recovers the journal, where only the first open is.
        AwaitAssert(() =>
        {
            registry.Tell(new GetActor("lost"), TestActor);
            Assert.Equal(ErrorKind.ActorNotFound, ExpectMsg<Rejected>(TimeSpan.FromSeconds(1)).Kind);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        registry.Tell(new GetActor("kept"), TestActor);
        Assert.Equal(kept.Id, ExpectMsg<ActorInfo>().Id);
        Assert.Equal(0, Registered("lost", _journal.Stored));
        registry.Tell(Open("lost", "r-3"), TestActor);
        Assert.Equal("lost", ExpectMsg<ActorInfo>().Name);
    }

    [Fact]
    public async Task A_snapshot_taken_while_a_later_registration_is_in_flight_holds_only_what_was_written()
    {
        // Snapshots at events 1 and 2 (the memory snapshot store drops every snapshot when the one at event 1 deletes
        // those before it, so an open comes first); the accounts answer the next two opens together, so the second
        // registration is decided while the first one's write is held.
        var registry = StartRegistry(snapshotEvery: 1);
        registry.Tell(Open("first", "r-0"), TestActor);
        ExpectMsg<ActorInfo>();
        _holdOpensUntil = 2;
        _journal.Hold();
        registry.Tell(Open("one", "r-1"), TestActor);
        registry.Tell(Open("other", "r-2"), TestActor);
        AwaitCondition(() => _journal.Asked.Count == 2);
        ExpectNoMsg(Quiet);
        // Whichever account answered first is written; the other, decided meanwhile, waits behind it and will fail.
        var written = _journal.Asked.ElementAt(1).OfType<ActorRegistered>().Single().Actor.Name;
        var unwritten = written == "one" ? "other" : "one";

        _journal.ReleaseWaitingOnly();
        AwaitCondition(() => _journal.Asked.Count == 3);
        await AwaitConditionAsync(async () => (await NewestSnapshotAsync())?.Live.Any(a => a.Name == written) == true);
        _journal.Fails = events => Registered(unwritten, events) > 0;
        _journal.Release();

        // The registry stops and recovers from that snapshot: the registration that failed is not in it.
        AwaitAssert(() =>
        {
            registry.Tell(new GetActor(unwritten), TestActor);
            Assert.Equal(ErrorKind.ActorNotFound, FishForMessage<Rejected>(_ => true, TimeSpan.FromSeconds(1)).Kind);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.Equal(["first", written], (await NewestSnapshotAsync())!.Live.Select(a => a.Name).Order());
    }

    [Fact]
    public void An_open_of_a_name_whose_kill_is_being_written_creates_its_account_after_the_kill_is_written_and_closed()
    {
        var registry = StartRegistry();
        registry.Tell(Open("again", "r-1", key: "key-again"), TestActor);
        var first = ExpectMsg<ActorInfo>();

        var killer = KillHeldAtItsDeath(registry, "again", "r-2");
        registry.Tell(Open("again", "r-3", key: "key-again"), TestActor);
        ExpectNoMsg(Quiet);
        Assert.Single(_accountsAsked, a => a.Command is OpenAccount);

        _journal.Release();
        Assert.Equal(ActorState.Dead, killer.ExpectMsg<ActorInfo>().State);
        var second = ExpectMsg<ActorInfo>();
        Assert.NotEqual(first.Id, second.Id);
        // The old incarnation is closed before the new one of the same key is opened.
        var ofKey = _accountsAsked.Where(a => a.Key == "key-again").Select(a => (a.Command.GetType().Name, a.Incarnation)).ToList();
        Assert.Equal([(nameof(OpenAccount), first.Id), (nameof(CloseAccount), first.Id), (nameof(OpenAccount), second.Id)], ofKey);
    }

    [Fact]
    public void An_open_placed_on_a_node_while_the_kill_of_its_key_is_being_written_creates_its_account_after_the_close()
    {
        var coordinator = CreateTestProbe();
        ActorRegistry.For(Sys).Register<PlacementCoordinatorKey>(coordinator.Ref);
        var registry = StartRegistry();
        registry.Tell(Open("placed", "r-1", key: "key-placed"), TestActor);
        var first = ExpectMsg<ActorInfo>();

        var killer = KillHeldAtItsDeath(registry, "placed", "r-2");
        registry.Tell(Open("placed", "r-3", key: "key-placed") with { Resources = new Dictionary<string, decimal> { ["cpu"] = 1m } }, TestActor);
        var reserved = coordinator.FishForMessage<ReservePlacement>(_ => true);
        registry.Tell(new PlaceOpenOn(reserved.Id, "node-1"), coordinator.Ref);
        ExpectNoMsg(Quiet);
        Assert.Single(_accountsAsked, a => a.Command is OpenAccount);

        _journal.Release();
        Assert.Equal(ActorState.Dead, killer.ExpectMsg<ActorInfo>().State);
        Assert.Equal(reserved.Id, ExpectMsg<ActorInfo>().Id);
        var ofKey = _accountsAsked.Where(a => a.Key == "key-placed").Select(a => (a.Command.GetType().Name, a.Incarnation)).ToList();
        Assert.Equal([(nameof(OpenAccount), first.Id), (nameof(CloseAccount), first.Id), (nameof(OpenAccount), reserved.Id)], ofKey);
    }

    [Fact]
    public void Five_hundred_concurrent_opens_are_all_answered_and_written_in_fewer_writes_than_opens()
    {
        const int opens = 500;
        var registry = StartRegistry(holdOpensUntil: opens);
        var clients = Enumerable.Range(0, 5).Select(_ => CreateTestProbe()).ToList();
        _journal.Hold();

        // No write is in flight before the first registration, so all 500 accounts are asked for at once; they answer together.
        for (var i = 0; i < opens; i++) registry.Tell(Open($"many-{i:000}", $"r-{i}"), clients[i % clients.Count]);
        AwaitCondition(() => _journal.Asked.Count == 1, TimeSpan.FromSeconds(10));
        // The first registration is held; the others are decided meanwhile (a registry takes microseconds for each).
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        _journal.Release();

        var answered = clients.SelectMany(c => c.ReceiveN(opens / clients.Count, TimeSpan.FromSeconds(20))).Cast<ActorInfo>().ToList();
        Assert.Equal(opens, answered.Select(a => a.Name).Distinct().Count());
        Assert.Equal(opens, _journal.Stored.OfType<ActorRegistered>().Select(r => r.Actor.Name).Distinct().Count());
        // Decided while the first write was held, so the next writes carry many registrations each.
        Assert.True(_journal.Asked.Count < opens / 10, $"{_journal.Asked.Count} writes for {opens} opens");
    }

    private IActorRef StartRegistry(int holdOpensUntil = 0, int snapshotEvery = 100)
    {
        _holdOpensUntil = holdOpensUntil;
        var accounts = Sys.ActorOf(Props.Create(() => new RecordingAccounts(_accountsAsked, () => _holdOpensUntil)), "accounts");
        var settings = new RegistrySettings(SnapshotEvery: snapshotEvery, KeepDead: 100, AskTimeout: TimeSpan.FromSeconds(10),
            MinBackoff: TimeSpan.FromMilliseconds(50), MaxBackoff: TimeSpan.FromMilliseconds(100),
            HeartbeatInterval: TimeSpan.FromSeconds(1), OwnerTimeout: TimeSpan.FromSeconds(10));
        return Sys.ActorOf(NameRegistry.SupervisedPropsFor(accounts, settings), "name-registry");
    }

    /// <summary>Holds the journal, then opens <paramref name="name"/> from a new probe, returned once its registration is being written.</summary>
    private TestProbe OpenHeldAtItsRegistration(IActorRef registry, string name, string requestId)
    {
        _journal.Hold();
        var opener = CreateTestProbe();
        registry.Tell(Open(name, requestId), opener);
        AwaitCondition(() => Registered(name, _journal.Asked.SelectMany(w => w)) == 1);
        return opener;
    }

    /// <summary>Holds the journal, then kills <paramref name="name"/> from a new probe, returned once its death is being written.</summary>
    private TestProbe KillHeldAtItsDeath(IActorRef registry, string name, string requestId)
    {
        _journal.Hold();
        var killer = CreateTestProbe();
        registry.Tell(new KillActor(name, DeathCauses.Killed, RequestId: requestId), killer);
        AwaitCondition(() => _journal.Asked.SelectMany(w => w).OfType<ActorDeathRecorded>().Any(d => d.Name == name));
        return killer;
    }

    private async Task<RegistrySnapshot?> NewestSnapshotAsync() =>
        (await Persistence.Instance.Apply(Sys).SnapshotStoreFor(null).Ask<LoadSnapshotResult>(
            new LoadSnapshot(BankConstants.RegistryPersistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue), TimeSpan.FromSeconds(5)))
        .Snapshot?.Snapshot as RegistrySnapshot;

    private static OpenActor Open(string name, string requestId, string? key = null) =>
        new(name, key, 10m, 0m, Detached: true, GetIfExists: false, Owner: null, RequestId: requestId);

    private static int Registered(string name, IEnumerable<object> events) =>
        events.Count(e => e is ActorRegistered registered && registered.Actor.Name == name);

    /// <summary>
    /// The account region, as the registry sees it: every open and close succeeds, recorded in order. With
    /// <c>holdOpensUntil</c>, the opens are answered together once that many came.
    /// </summary>
    private sealed class RecordingAccounts : ReceiveActor
    {
        public RecordingAccounts(ConcurrentQueue<AccountRequest> asked, Func<int> holdOpensUntil)
        {
            var held = new List<(IActorRef To, TrackedAccountRequest Call)>();
            // The registry calls accounts through its node's call table, under ids its answers must carry.
            Receive<TrackedAccountRequest>(call =>
            {
                asked.Enqueue(call.Request);
                held.Add((Sender, call));
                if (call.Request.Command is OpenAccount && held.Count < holdOpensUntil()) return;
                foreach (var (to, answered) in held)
                {
                    var request = answered.Request;
                    to.Tell(CorrelatedAccountReply.Of(answered.Id, new AccountReply(request.Key, request.Incarnation, 10m, 0m, 1, "node-1")));
                }

                held.Clear();
            });
        }
    }
}
