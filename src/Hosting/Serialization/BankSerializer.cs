using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Serialization;

/// <summary>
/// Serializes Bank's events, snapshots and messages as JSON under explicit, stable manifests, so a journal written today
/// recovers after a rename or an upgrade. A manifest is never renamed or reused: a changed shape gets a new one.
/// </summary>
public sealed class BankSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Every type this serializer writes, by manifest. Append only.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Manifests = new Dictionary<string, Type>
    {
        // account events and snapshot (journal)
        ["account-opened"] = typeof(AccountOpened),
        ["account-reopened"] = typeof(AccountReopened),
        ["deposited"] = typeof(Deposited),
        ["withdrawn"] = typeof(Withdrawn),
        ["account-closed"] = typeof(AccountClosed),
        ["account-state"] = typeof(AccountState),
        ["account-restarted"] = typeof(AccountRestarted),
        ["requests-released"] = typeof(RequestsReleased),
        // registry events and snapshot (journal)
        ["actor-registered"] = typeof(ActorRegistered),
        ["actor-died"] = typeof(ActorDeathRecorded),
        ["registry-snapshot"] = typeof(RegistrySnapshot),
        ["actor-restart-recorded"] = typeof(ActorRestartRecorded),
        // account messages (wire)
        ["account-request"] = typeof(AccountRequest),
        ["account-reply"] = typeof(AccountReply),
        ["account-probe"] = typeof(AccountProbe),
        ["account-recovery-info"] = typeof(AccountRecoveryInfo),
        ["rejected"] = typeof(Rejected),
        ["inject-crash"] = typeof(InjectCrash),
        ["crash-injected"] = typeof(CrashInjected),
        // registry messages (wire)
        ["open-actor"] = typeof(OpenActor),
        ["get-actor"] = typeof(GetActor),
        ["kill-actor"] = typeof(KillActor),
        ["list-actors"] = typeof(ListActors),
        ["owner-ended"] = typeof(OwnerEnded),
        ["actor-info"] = typeof(ActorInfo),
        ["actor-list"] = typeof(ActorList),
        ["owner-released"] = typeof(OwnerReleased),
        ["owner-heartbeat"] = typeof(OwnerHeartbeat),
        ["actor-restarting"] = typeof(ActorRestarting),
        ["actor-restart-completed"] = typeof(ActorRestartCompleted),
        ["actor-failed"] = typeof(ActorFailed),
        ["actor-failure-recorded"] = typeof(ActorFailureRecorded),
        // transfer saga events (journal) and messages (wire)
        ["transfer-started"] = typeof(TransferStarted),
        ["transfer-debited"] = typeof(TransferDebited),
        ["transfer-credited"] = typeof(TransferCredited),
        ["transfer-refused"] = typeof(TransferRefused),
        ["transfer-reverting"] = typeof(TransferReverting),
        ["transfer-reverted"] = typeof(TransferReverted),
        ["transfer-money"] = typeof(TransferMoney),
        ["transferred"] = typeof(Transferred),
        // gateway messages (wire)
        ["get-history"] = typeof(GetHistory),
        ["history"] = typeof(History),
        ["history-entry"] = typeof(HistoryEntry),
        ["crash-actor"] = typeof(CrashActor),
        ["kill-node"] = typeof(KillNode),
        ["node-killed"] = typeof(NodeKilled),
        // inspection messages (wire)
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
        // an account's entity and its instance on the node it is placed on (wire)
        ["supervised-call"] = typeof(SupervisedCall),
        ["supervised-answer"] = typeof(SupervisedAnswer),
        ["account-started"] = typeof(AccountStarted),
        ["account-crashed"] = typeof(AccountCrashed),
        ["account-instance-done"] = typeof(AccountInstanceDone),
        ["host-account"] = typeof(StartPlacedInstance),
        ["account-hosted"] = typeof(PlacedInstanceStarted),
        ["account-instance-released"] = typeof(AccountInstanceReleased),
        // placement: registry event (journal) and messages (wire)
        ["actor-placed"] = typeof(ActorPlaced),
        ["where-to-run"] = typeof(WhereToRun),
        ["run-at"] = typeof(RunAt),
        ["placement-pending"] = typeof(PlacementPending),
        ["not-placed"] = typeof(NotPlaced),
        ["get-reservations"] = typeof(GetReservations),
        ["node-reservation"] = typeof(NodeReservation),
        ["reservations"] = typeof(Reservations),
        // placement: between the registry and the placement coordinator (wire)
        ["reserve-placement"] = typeof(ReservePlacement),
        ["release-placement"] = typeof(ReleasePlacement),
        ["get-known-placements"] = typeof(GetKnownPlacements),
        ["known-placements"] = typeof(KnownPlacements),
        ["place-open-on"] = typeof(PlaceOpenOn),
        ["fail-unplaced-open"] = typeof(FailUnplacedOpen),
        ["record-placement"] = typeof(RecordPlacement),
        ["placement-recorded"] = typeof(PlacementRecorded),
        ["placement-lost"] = typeof(PlacementLost),
        // the state store and its persistence workers (wire)
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
        // an account call from inside a node, answered under its id (wire)
        ["tracked-account-request"] = typeof(TrackedAccountRequest),
        // account calls by name, resolved at the gateway (wire)
        ["named-account-request"] = typeof(NamedAccountRequest),
        ["correlated-named-account-request"] = typeof(CorrelatedNamedAccountRequest),
        // a request through a node's client door, with its sender's credential (wire)
        ["credentialed"] = typeof(Credentialed),
    };

    private static readonly FrozenDictionary<string, Type> TypesByManifest = Manifests.ToFrozenDictionary();

    private static readonly FrozenDictionary<Type, string> ManifestsByType =
        Manifests.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);

    /// <summary>The types bound to this serializer in the actor system's configuration.</summary>
    public static readonly Type[] BoundTypes = [typeof(IAccountEvent), typeof(AccountState), typeof(IRegistryRecord), typeof(IBankMessage)];

    /// <summary>
    /// Bank's serializer and its bindings as HOCON, for the actor systems not composed with Akka.Hosting (a client's, a
    /// node's client door), which cannot use <c>WithBankSerialization</c>.
    /// </summary>
    public static Config Bindings { get; } = ConfigurationFactory.ParseString(
        $"akka.actor.serializers.{BankConstants.SerializerName} = \"{TypeName(typeof(BankSerializer))}\"\n" +
        string.Join("\n", BoundTypes.Select(t => $"akka.actor.serialization-bindings.\"{TypeName(t)}\" = {BankConstants.SerializerName}")));

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper), new CredentialedConverter() },
        // Money is a JSON number, never a string that happens to parse.
        NumberHandling = JsonNumberHandling.Strict,
        // A field missing from stored JSON is an error, not a silent zero: a renamed property cannot pass unnoticed.
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    public override int Identifier => BankConstants.SerializerId;

    public override string Manifest(object o) => ManifestOf(o);

    internal static string ManifestOf(object o) =>
        ManifestsByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} has no manifest in {nameof(BankSerializer)}", nameof(o));

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options)
              ?? throw new SerializationException($"Manifest '{manifest}' decoded to null")
            : throw new SerializationException($"Unknown manifest '{manifest}': written by a newer Bank?");
}
