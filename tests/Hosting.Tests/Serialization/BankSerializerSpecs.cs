using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;
using Bank.Hosting.Serialization;
using Bank.Hosting.Tests.Support;
using Xunit;
using AkkaSerialization = Akka.Serialization.Serialization;

namespace Bank.Hosting.Tests;

/// <summary>
/// Events, snapshots and wire messages go through BankSerializer under stable manifests (DESIGN.md §6), so a journal
/// written today recovers after an upgrade. These specs use the node's own serialization bindings.
/// </summary>
public class BankSerializerSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(1));

    private static readonly ActorInfo Alive = new("Account", "1234567", "0123456789abcdef0123456789abcdef", ActorState.Alive,
        null, true, null, "akka.tcp://bank@127.0.0.1:4053", 0, Created, null);

    private static readonly ActorInfo Dead = new("Spender", "7654321", "fedcba9876543210fedcba9876543210", ActorState.Dead,
        DeathCauses.OwnerDied, false, "12345/session", "akka.tcp://bank@127.0.0.1:4053", 2, Created, Created.AddMinutes(5));

    private static readonly HistoryEntry HistoryEntryValue = new(2, "deposited", 33m, 132m, Created);

    private static readonly TransferParty Alice = new("Alice", "k-alice", "inc-a");

    private static readonly TransferParty Bob = new("Bob", "k-bob", "inc-b");

    private static readonly MemberView Member = new("akka.tcp://bank@127.0.0.1:4053", "Up", ["cpu"], true, true, true, Created);

    private static readonly MembershipEvent Event = new(8, Created, "up", "akka.tcp://bank@127.0.0.1:4054", "Up");

    private static readonly ShardView Shard = new("42", ["k1", "k2"]);

    private static readonly RegionView Region = new("akka.tcp://bank@127.0.0.1:4053", "account", 1, 2, [Shard]);

    private static readonly ActorNode Leaf = new("bank-gateway", "/user/bank-gateway", []);

    private static readonly NodeStatus Status = new("akka.tcp://bank@127.0.0.1:4053", ["cpu", "gpu"], 3,
        new Dictionary<string, decimal> { ["cpu"] = 2m, ["gpu"] = 4m }, new Dictionary<string, decimal> { ["cpu"] = 0m, ["gpu"] = 1m },
        new Dictionary<string, decimal> { ["cpu"] = 2m, ["gpu"] = 3m });

    /// <summary>One value of every type the serializer writes.</summary>
    private static readonly Dictionary<string, decimal> Gpus = new() { ["cpu"] = 1m, ["gpu"] = 4m, ["memory"] = 524_288_000m };

    private static readonly NodeReservation Reservation = new("akka.tcp://bank@127.0.0.1:4054", Gpus, 1);

    private static readonly AccountRow Row = new("k1", 7, 105m, 0m, null, Created);

    private static readonly object[] Samples =
    [
        new AccountOpened(99m, 20m, "inc-1"),
        new AccountReopened("inc-2", 66.5m),
        new Deposited(5m, 10m),
        new Withdrawn(33m, 66m),
        new AccountClosed(DeathCauses.Killed, 66m),
        new AccountState(AccountStatus.Open, 66m, 20m, "inc-2"),
        new ActorRegistered(Alive),
        new ActorDeathRecorded("Account", Alive.Id, DeathCauses.Killed, Created),
        new RegistrySnapshot([Alive], [Dead]),
        new AccountRequest("1234567", "inc-1", new Withdraw(0.00000001m)),
        new AccountReply("1234567", "inc-1", 9_223_372_036_854_775_808m, -20m, 7, "akka.tcp://bank@127.0.0.1:4053"),
        new AccountProbe("1234567"),
        new AccountRecoveryInfo("1234567", "instance", 25, 20, 5, AccountStatus.Closed),
        new Rejected(ErrorKind.RuleViolation, "NegativeDeposit", "Cannot deposit negative amount"),
        new OpenActor("Account", "1234567", 100m, 20m, true, false, null),
        new GetActor("Account"),
        new KillActor("Account", DeathCauses.Killed),
        ListActors.Instance,
        new OwnerEnded("12345/session"),
        Dead,
        new ActorList([Alive, Dead]),
        new OwnerReleased("12345/session", 2),
        new OwnerHeartbeat("client:0123456789abcdef0123456789abcdef"),
        new GetHistory("Account"),
        HistoryEntryValue,
        new History("Account", "1234567", [HistoryEntryValue]),
        new AccountRestarted(2, "InjectedCrash: boom"),
        new RequestsReleased(["transfer:t-1:withdraw"]),
        new ActorRestartRecorded("Account", Alive.Id, 2),
        new InjectCrash("1234567", "inc-1", 3),
        new CrashInjected("1234567", 3, "akka.tcp://bank@127.0.0.1:4053"),
        new ActorRestarting("1234567", "inc-1", 1, "InjectedCrash: boom"),
        new ActorRestartCompleted("1234567", "inc-1", 1),
        new ActorFailed("1234567", "inc-1", 5, "InjectedCrash: boom"),
        new ActorFailureRecorded("1234567", "inc-1"),
        new TransferStarted(Alice, Bob, 10m),
        new TransferDebited(90m),
        new TransferCredited(110m),
        new TransferRefused(new Rejected(ErrorKind.RuleViolation, "InsufficientBalance", "Withdrawal is not supported by current balance")),
        new TransferReverting(new Rejected(ErrorKind.ActorDied, "Closed", "this actor of account 'k' is dead: Account is closed")),
        new TransferReverted(100m),
        new TransferMoney("t-1", Alice, Bob, 10m),
        new Transferred("t-1", "Alice", "Bob", 10m, 90m, 110m),
        new CrashActor("Account", 3),
        new KillNode("127.0.0.1:4053"),
        new NodeKilled("127.0.0.1:4053"),
        GetClusterView.Instance,
        Member,
        new ClusterView("akka.tcp://bank@127.0.0.1:4053", [Member]),
        new ChangeMembership(ChangeMembership.Leave, "127.0.0.1:4054"),
        new MembershipChanged(ChangeMembership.Down, ["akka.tcp://bank@127.0.0.1:4054"]),
        new GetMembershipEvents(7),
        Event,
        new MembershipEvents(8, [Event]),
        new GetShards("account", true),
        new GetLocalShards(null, false),
        Shard,
        Region,
        new ShardsView([Region]),
        new GetActorTree("/user", 3, "127.0.0.1:4054"),
        Leaf,
        new ActorTree("akka.tcp://bank@127.0.0.1:4053", new ActorNode("user", "/user", [Leaf], 2)),
        GetNodeInfo.Instance,
        new NodeInfo("akka.tcp://bank@127.0.0.1:4053", 2, 25_000_000_000, ["cpu"], new Dictionary<string, decimal> { ["cpu"] = 2m }),
        new NodeAdvertised("akka.tcp://bank@127.0.0.1:4053", new Dictionary<string, decimal> { ["gpu"] = 4m }),
        GetClusterStatus.Instance,
        Status,
        new ClusterStatus([Status], 1),
        new SupervisedCall(7, new AccountRequest("k1", "inc-1", new Deposit(5m, "r-1"), "akka.tcp://bank@127.0.0.1:4054"), true),
        new SupervisedAnswer(7, new AccountReply("k1", "inc-1", 105m, 0m, 3, "akka.tcp://bank@127.0.0.1:4054", 1), null),
        new AccountStarted("inc-1", new Supervision(5, -1), 2, "akka.tcp://bank@127.0.0.1:4054", Gpus),
        new AccountCrashed("InjectedCrash: boom", true),
        new AccountInstanceDone("k1"),
        new StartPlacedInstance("k1", 3),
        new PlacedInstanceStarted("k1", 3),
        new AccountInstanceReleased("k1", "akka.tcp://bank@127.0.0.1:4054"),
        new ActorPlaced("Trainer", "fedcba9876543210fedcba9876543210", "akka.tcp://bank@127.0.0.1:4054"),
        new WhereToRun("k1", "inc-1", "akka.tcp://bank@127.0.0.1:4055"),
        new RunAt("k1", "inc-1", "akka.tcp://bank@127.0.0.1:4054"),
        new PlacementPending("k1", "inc-1", "no node has the resources", Created),
        new NotPlaced("k1", "inc-1"),
        GetReservations.Instance,
        Reservation,
        new Reservations([Reservation], 2),
        new ReservePlacement("inc-1", "Account", "k1", new Dictionary<string, decimal> { ["gpu"] = 0.5m }, Created),
        new ReleasePlacement("inc-1"),
        GetKnownPlacements.Instance,
        new KnownPlacements([Alive with { Resources = new Dictionary<string, decimal> { ["gpu"] = 1m } }]),
        new PlaceOpenOn("inc-1", "akka.tcp://bank@127.0.0.1:4053"),
        new FailUnplacedOpen("inc-1", "no node has the resources"),
        new RecordPlacement("Account", "inc-1", "akka.tcp://bank@127.0.0.1:4053"),
        new PlacementRecorded("inc-1"),
        new PlacementLost("inc-1"),
        new StoreBatch(9, [Row, Row with { Key = "k2", Version = 0, Balance = null, Name = "Saver" }]),
        new BatchStored(9, "akka.tcp://bank@127.0.0.1:4054/$a", 2),
        new BatchRefused(9, "akka.tcp://bank@127.0.0.1:4054/$a", "row '' at version -1 is not an account update"),
        CrashOnNextBatch.Instance,
        GetStateStoreProgress.Instance,
        new StateStoreProgress(120, 130, new Dictionary<string, long> { ["akka.tcp://bank@127.0.0.1:4054/$a"] = 60 }, 1, 0),
        new GetStoredAccounts(["k1", "k2"]),
        new StoredAccounts([new StoredAccount("k1", "Saver", 105m, 0m, 7, Created)], 3),
        new CorrelatedAccountRequest(42, new AccountRequest("k1", "inc-1", new Deposit(5m, "r-1"))),
        new CorrelatedAccountReply(42, new AccountReply("k1", "inc-1", 105m, 0m, 7, "akka.tcp://bank@127.0.0.1:4053"), null),
        new TrackedAccountRequest(43, new AccountRequest("k1", "inc-1", new Withdraw(5m, "r-4"))),
        new NamedAccountRequest("Saver", new Withdraw(5m, "r-2")),
        new CorrelatedNamedAccountRequest(43, new NamedAccountRequest("Saver", GetBalance.Instance)),
        new Credentialed("v1.c2lnbmVk", new CorrelatedNamedAccountRequest(44, new NamedAccountRequest("Saver", new Deposit(2m, "r-3")))),
    ];




    /// <summary>The manifests written into journals and onto the wire today. Never rename or reuse one.</summary>
    private static readonly IReadOnlyDictionary<string, Type> PublishedManifests = new Dictionary<string, Type>
    {
        ["account-opened"] = typeof(AccountOpened),
        ["account-reopened"] = typeof(AccountReopened),
        ["deposited"] = typeof(Deposited),
        ["withdrawn"] = typeof(Withdrawn),
        ["account-closed"] = typeof(AccountClosed),
        ["account-state"] = typeof(AccountState),
        ["actor-registered"] = typeof(ActorRegistered),
        ["actor-died"] = typeof(ActorDeathRecorded),
        ["registry-snapshot"] = typeof(RegistrySnapshot),
        ["account-request"] = typeof(AccountRequest),
        ["account-reply"] = typeof(AccountReply),
        ["account-probe"] = typeof(AccountProbe),
        ["account-recovery-info"] = typeof(AccountRecoveryInfo),
        ["rejected"] = typeof(Rejected),
        ["open-actor"] = typeof(OpenActor),
        ["get-actor"] = typeof(GetActor),
        ["kill-actor"] = typeof(KillActor),
        ["list-actors"] = typeof(ListActors),
        ["owner-ended"] = typeof(OwnerEnded),
        ["actor-info"] = typeof(ActorInfo),
        ["actor-list"] = typeof(ActorList),
        ["owner-released"] = typeof(OwnerReleased),
        ["owner-heartbeat"] = typeof(OwnerHeartbeat),
        ["get-history"] = typeof(GetHistory),
        ["history"] = typeof(History),
        ["history-entry"] = typeof(HistoryEntry),
        ["account-restarted"] = typeof(AccountRestarted),
        ["requests-released"] = typeof(RequestsReleased),
        ["actor-restart-recorded"] = typeof(ActorRestartRecorded),
        ["inject-crash"] = typeof(InjectCrash),
        ["crash-injected"] = typeof(CrashInjected),
        ["actor-restarting"] = typeof(ActorRestarting),
        ["actor-restart-completed"] = typeof(ActorRestartCompleted),
        ["actor-failed"] = typeof(ActorFailed),
        ["actor-failure-recorded"] = typeof(ActorFailureRecorded),
        ["transfer-started"] = typeof(TransferStarted),
        ["transfer-debited"] = typeof(TransferDebited),
        ["transfer-credited"] = typeof(TransferCredited),
        ["transfer-refused"] = typeof(TransferRefused),
        ["transfer-reverting"] = typeof(TransferReverting),
        ["transfer-reverted"] = typeof(TransferReverted),
        ["transfer-money"] = typeof(TransferMoney),
        ["transferred"] = typeof(Transferred),
        ["crash-actor"] = typeof(CrashActor),
        ["kill-node"] = typeof(KillNode),
        ["node-killed"] = typeof(NodeKilled),
        ["get-cluster-view"] = typeof(GetClusterView),
        ["member-view"] = typeof(MemberView),
        ["cluster-view"] = typeof(ClusterView),
        ["change-membership"] = typeof(ChangeMembership),
        ["membership-changed"] = typeof(MembershipChanged),
        ["get-membership-events"] = typeof(GetMembershipEvents),
        ["membership-event"] = typeof(MembershipEvent),
        ["membership-events"] = typeof(MembershipEvents),
        ["get-shards"] = typeof(GetShards),
        ["get-local-shards"] = typeof(GetLocalShards),
        ["shard-view"] = typeof(ShardView),
        ["region-view"] = typeof(RegionView),
        ["shards-view"] = typeof(ShardsView),
        ["get-actor-tree"] = typeof(GetActorTree),
        ["actor-node"] = typeof(ActorNode),
        ["actor-tree"] = typeof(ActorTree),
        ["get-node-info"] = typeof(GetNodeInfo),
        ["node-info"] = typeof(NodeInfo),
        ["node-advertised"] = typeof(NodeAdvertised),
        ["get-cluster-status"] = typeof(GetClusterStatus),
        ["node-status"] = typeof(NodeStatus),
        ["cluster-status"] = typeof(ClusterStatus),
        ["supervised-call"] = typeof(SupervisedCall),
        ["supervised-answer"] = typeof(SupervisedAnswer),
        ["account-started"] = typeof(AccountStarted),
        ["account-crashed"] = typeof(AccountCrashed),
        ["account-instance-done"] = typeof(AccountInstanceDone),
        ["host-account"] = typeof(StartPlacedInstance),
        ["account-hosted"] = typeof(PlacedInstanceStarted),
        ["account-instance-released"] = typeof(AccountInstanceReleased),
        ["actor-placed"] = typeof(ActorPlaced),
        ["where-to-run"] = typeof(WhereToRun),
        ["run-at"] = typeof(RunAt),
        ["placement-pending"] = typeof(PlacementPending),
        ["not-placed"] = typeof(NotPlaced),
        ["get-reservations"] = typeof(GetReservations),
        ["node-reservation"] = typeof(NodeReservation),
        ["reservations"] = typeof(Reservations),
        ["reserve-placement"] = typeof(ReservePlacement),
        ["release-placement"] = typeof(ReleasePlacement),
        ["get-known-placements"] = typeof(GetKnownPlacements),
        ["known-placements"] = typeof(KnownPlacements),
        ["place-open-on"] = typeof(PlaceOpenOn),
        ["fail-unplaced-open"] = typeof(FailUnplacedOpen),
        ["record-placement"] = typeof(RecordPlacement),
        ["placement-recorded"] = typeof(PlacementRecorded),
        ["placement-lost"] = typeof(PlacementLost),
        ["store-batch"] = typeof(StoreBatch),
        ["batch-stored"] = typeof(BatchStored),
        ["batch-refused"] = typeof(BatchRefused),
        ["crash-on-next-batch"] = typeof(CrashOnNextBatch),
        ["get-state-store-progress"] = typeof(GetStateStoreProgress),
        ["state-store-progress"] = typeof(StateStoreProgress),
        ["get-stored-accounts"] = typeof(GetStoredAccounts),
        ["stored-accounts"] = typeof(StoredAccounts),
        ["correlated-account-request"] = typeof(CorrelatedAccountRequest),
        ["correlated-account-reply"] = typeof(CorrelatedAccountReply),
        ["tracked-account-request"] = typeof(TrackedAccountRequest),
        ["named-account-request"] = typeof(NamedAccountRequest),
        ["correlated-named-account-request"] = typeof(CorrelatedNamedAccountRequest),
        ["credentialed"] = typeof(Credentialed),
    };

    /// <summary>The journal's shape of an <see cref="ActorRegistered"/> event before supervision: read for ever.</summary>
    private const string PublishedActorRegistered =
        """{"actor":{"name":"Spender","key":"7654321","id":"fedcba9876543210fedcba9876543210","state":"ALIVE","death_cause":null,"detached":false,"owner":"12345/session","node":"akka.tcp://bank@127.0.0.1:4053","restarts":0,"created_at":"2026-01-02T03:04:05.678+01:00","died_at":null}}""";

    /// <summary>The journal's shape of an <see cref="ActorRegistered"/> event today, with the actor's supervision.</summary>
    private const string PublishedActorRegisteredWithSupervision =
        """{"actor":{"name":"Spender","key":"7654321","id":"fedcba9876543210fedcba9876543210","state":"ALIVE","death_cause":null,"detached":false,"owner":"12345/session","node":"akka.tcp://bank@127.0.0.1:4053","restarts":0,"created_at":"2026-01-02T03:04:05.678+01:00","died_at":null,"max_restarts":5,"max_task_retries":-1}}""";

    private static readonly ActorRegistered Registered =
        new(Dead with { State = ActorState.Alive, DeathCause = null, Restarts = 0, DiedAt = null });

    public static TheoryData<string> Manifests => [.. BankSerializer.Manifests.Keys];

    public static TheoryData<string> Commands => ["open", "deposit", "withdraw", "balance", "close", "refund", "record-restarts", "find-applied", "release-requests"];

    [Fact]
    public void Manifests_are_the_published_ones_bound_to_the_same_types()
    {
        Assert.Equal(
            PublishedManifests.OrderBy(pair => pair.Key, StringComparer.Ordinal),
            BankSerializer.Manifests.OrderBy(pair => pair.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Every_type_with_a_manifest_has_a_sample_here()
    {
        Assert.Equal(
            BankSerializer.Manifests.Values.Select(type => type.Name).Order(StringComparer.Ordinal),
            Samples.Select(sample => sample.GetType().Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Value_round_trips_through_the_bank_serializer_under_its_manifest(string manifest)
    {
        var sample = Samples.Single(s => s.GetType() == BankSerializer.Manifests[manifest]);

        var decoded = RoundTrip(sample, manifest);

        AssertSameValue(sample, decoded);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_account_command_round_trips_inside_an_account_request(string command)
    {
        IAccountCommand sample = command switch
        {
            "open" => new OpenAccount(100m, 20m, "inc-1"),
            "deposit" => new Deposit(5.5m),
            "withdraw" => new Withdraw(7m),
            "balance" => GetBalance.Instance,
            "close" => new CloseAccount(DeathCauses.Exited, Alive.Id),
            "refund" => new Refund(10m, "transfer:t-1:refund"),
            "record-restarts" => new RecordRestarts(3, "InjectedCrash: boom"),
            "find-applied" => new FindApplied("transfer:t-1:withdraw"),
            "release-requests" => new ReleaseRequests(["transfer:t-1:withdraw", "transfer:t-1:refund"]),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command, "unknown command"),
        };
        var request = new AccountRequest("1234567", "inc-1", sample);

        var decoded = Assert.IsType<AccountRequest>(RoundTrip(request, "account-request"));
        // Commands that hold lists compare by reference as records: compare them as JSON, field by field.
        Assert.Equal(JsonSerializer.Serialize(request), JsonSerializer.Serialize(decoded));
    }

    [Fact]
    public void Deposited_is_written_as_the_published_json()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new Deposited(5m, 10m));

        Assert.Equal("""{"amount":5,"balance":10}""", Encoding.UTF8.GetString(serializer.ToBinary(new Deposited(5m, 10m))));
    }

    [Fact]
    public void Deposited_is_read_from_the_published_json()
    {
        Assert.Equal(new Deposited(5m, 10m), Decode("deposited", """{"amount":5,"balance":10}"""));
    }

    [Fact]
    public void Account_events_and_snapshot_are_read_from_the_published_json()
    {
        Assert.Equal(new AccountOpened(99m, 20m, "abc"),
            Decode("account-opened", """{"balance":99,"minimal_balance":20,"incarnation":"abc"}"""));
        Assert.Equal(new Withdrawn(33m, 66m), Decode("withdrawn", """{"amount":33,"balance":66}"""));
        Assert.Equal(new AccountReopened("def", 66m), Decode("account-reopened", """{"incarnation":"def","balance":66}"""));
        Assert.Equal(new AccountClosed("KILLED", 66m), Decode("account-closed", """{"reason":"KILLED","balance":66}"""));
        Assert.Equal(new AccountState(AccountStatus.Open, 66m, 20m, "def"),
            Decode("account-state", """{"status":"OPEN","balance":66,"minimal_balance":20,"incarnation":"def"}"""));
    }

    [Fact]
    public void Registry_events_and_commands_on_the_wire_are_read_from_the_published_json()
    {
        Assert.Equal(new ActorDeathRecorded("Account", "abc", "KILLED", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)),
            Decode("actor-died", """{"name":"Account","id":"abc","cause":"KILLED","at":"2026-01-02T03:04:05+00:00"}"""));
        Assert.Equal(new AccountRequest("k", "i", new Withdraw(5m)),
            Decode("account-request", """{"key":"k","incarnation":"i","command":{"$c":"withdraw","amount":5}}"""));
    }

    [Fact]
    public void Every_event_and_message_type_of_the_bank_assemblies_has_a_manifest()
    {
        var types = new[] { typeof(AccountState).Assembly, typeof(IBankMessage).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false })
            .Where(type => typeof(IAccountEvent).IsAssignableFrom(type) || typeof(IRegistryRecord).IsAssignableFrom(type)
                || typeof(IBankMessage).IsAssignableFrom(type))
            .Append(typeof(AccountState))
            .ToList();
        // The search itself works: it finds an account event and a registry message.
        Assert.Contains(typeof(Deposited), types);
        Assert.Contains(typeof(OwnerReleased), types);
        Assert.Contains(typeof(ActorPlaced), types);

        Assert.Empty(types.Except(BankSerializer.Manifests.Values).Select(type => type.FullName));
    }

    [Theory]
    [InlineData("deposited", """{"amount":5}""")]
    [InlineData("account-opened", """{"balance":99,"minimal_balance":20}""")]
    [InlineData("account-closed", """{"balance":66}""")]
    [InlineData("actor-died", """{"name":"Account","id":"abc","cause":"KILLED"}""")]
    [InlineData("account-request", """{"key":"k","incarnation":"i","command":{"$c":"withdraw"}}""")]
    public void Stored_json_with_a_missing_field_fails_to_deserialize(string manifest, string json)
    {
        Assert.ThrowsAny<JsonException>(() => Decode(manifest, json));
    }

    [Fact]
    public void ActorRegistered_is_written_as_the_published_json()
    {
        var registered = new ActorRegistered(Registered.Actor with { MaxRestarts = 5, MaxTaskRetries = -1 });
        var serializer = Sys.Serialization.FindSerializerFor(registered);

        Assert.Equal(PublishedActorRegisteredWithSupervision, Encoding.UTF8.GetString(serializer.ToBinary(registered)));
        Assert.Equal(registered, Decode("actor-registered", PublishedActorRegisteredWithSupervision));
    }

    [Fact]
    public void An_account_opened_with_resources_keeps_them_in_its_journal_and_older_events_read_as_none()
    {
        var opened = new AccountOpened(99m, 20m, "abc", 0, 0, Gpus);
        var serializer = Sys.Serialization.FindSerializerFor(opened);
        var json = Encoding.UTF8.GetString(serializer.ToBinary(opened));

        Assert.Contains("\"resources\":{\"cpu\":1,\"gpu\":4,\"memory\":524288000}", json);
        Assert.Equal(Gpus, AccountState.Empty.Apply(Assert.IsType<AccountOpened>(Decode("account-opened", json))).Resources);
        Assert.Null(AccountState.Empty.Apply(Assert.IsType<AccountOpened>(
            Decode("account-opened", """{"balance":99,"minimal_balance":20,"incarnation":"abc"}"""))).Resources);
    }

    [Fact]
    public void ActorRegistered_from_before_supervision_is_read_with_no_restarts()
    {
        Assert.Equal(Registered, Decode("actor-registered", PublishedActorRegistered));
    }

    [Fact]
    public void Account_events_from_before_supervision_read_as_no_restarts_and_no_retries()
    {
        var opened = Assert.IsType<AccountOpened>(Decode("account-opened", """{"balance":99,"minimal_balance":20,"incarnation":"abc"}"""));
        var state = AccountState.Empty.Apply(opened);

        Assert.Equal(Supervision.Default, state.Supervision);
        Assert.Equal(new AccountOpened(99m, 20m, "abc", 5, -1),
            Decode("account-opened", """{"balance":99,"minimal_balance":20,"incarnation":"abc","max_restarts":5,"max_task_retries":-1}"""));
    }

    [Fact]
    public void An_account_snapshot_keeps_what_each_applied_call_did_and_reads_older_ones_without_it()
    {
        var state = new AccountState(AccountStatus.Open, 66m, 20m, "def") { AppliedRequests = [new AppliedRequest("client:r1", 66m, -4m)] };

        Assert.Equal(state.AppliedRequests, Assert.IsType<AccountState>(RoundTrip(state, "account-state")).AppliedRequests);
        var older = Assert.IsType<AccountState>(Decode("account-state",
            """{"status":"OPEN","balance":66,"minimal_balance":20,"incarnation":"def","applied_requests":[{"id":"r1","balance":66}]}"""));
        Assert.Equal([new AppliedRequest("r1", 66m)], older.AppliedRequests);
    }

    [Fact]
    public void Unknown_manifest_fails_with_a_clear_error()
    {
        var error = Assert.Throws<SerializationException>(() => Decode("deposited-v9", "{}"));

        Assert.Contains("deposited-v9", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"credential":"c","manifest":"System.IO.FileInfo, System.IO.FileSystem","request":{"original_path":"/etc/passwd"}}""")]
    [InlineData("""{"credential":"c","manifest":"credentialed","request":{"credential":"c","manifest":"list-actors","request":{}}}""")]
    [InlineData("""{"credential":"c","manifest":"no-such-manifest","request":{}}""")]
    public void A_credentialed_request_carries_only_a_bank_request_named_by_its_manifest_never_a_type_name_or_a_second_envelope(string json)
    {
        Assert.ThrowsAny<Exception>(() => Decode("credentialed", json));
    }

    private object RoundTrip(object value, string expectedManifest)
    {
        var serializer = Sys.Serialization.FindSerializerFor(value);
        Assert.IsType<BankSerializer>(serializer);
        Assert.Equal(4711, serializer.Identifier);
        var manifest = AkkaSerialization.ManifestFor(serializer, value);
        Assert.Equal(expectedManifest, manifest);

        return Sys.Serialization.Deserialize(serializer.ToBinary(value), serializer.Identifier, manifest);
    }

    private object Decode(string manifest, string json) =>
        Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes(json), BankConstants.SerializerId, manifest);

    /// <summary>Records compare by value, except that the lists they hold compare by reference: compare those by items.</summary>
    private static void AssertSameValue(object expected, object actual)
    {
        Assert.IsType(expected.GetType(), actual);
        switch (expected)
        {
            case ActorList list:
                Assert.Equal(list.Actors, ((ActorList)actual).Actors);
                break;
            case History history:
                var decoded = (History)actual;
                Assert.Equal((history.Name, history.Key), (decoded.Name, decoded.Key));
                Assert.Equal(history.Events, decoded.Events);
                break;
            case RegistrySnapshot snapshot:
                Assert.Equal(snapshot.Live, ((RegistrySnapshot)actual).Live);
                Assert.Equal(snapshot.Dead, ((RegistrySnapshot)actual).Dead);
                break;
            case RequestsReleased released:
                Assert.Equal(released.RequestIds, ((RequestsReleased)actual).RequestIds);
                break;
            case var _ when expected.GetType().Namespace == typeof(ClusterView).Namespace
                            || expected is AccountStarted or NodeReservation or Reservations or ReservePlacement or KnownPlacements or StoreBatch or StateStoreProgress or StoredAccounts or GetStoredAccounts:
                // These hold lists or dictionaries, which records compare by reference: compare them field by field as JSON.
                Assert.Equal(JsonSerializer.Serialize(expected, expected.GetType()), JsonSerializer.Serialize(actual, actual.GetType()));
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }
}
