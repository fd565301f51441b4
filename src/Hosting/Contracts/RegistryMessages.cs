using System.Text.Json.Serialization;
using Bank.Domain;

namespace Bank.Hosting.Contracts;

/// <summary>
/// Get or create the named actor. Without a key a fresh one is made; with the key of an existing account its state
/// is restored. A live name fails with AlreadyExists unless <paramref name="GetIfExists"/>. A retry with the same
/// <paramref name="RequestId"/> gets the first attempt's answer. <paramref name="MaxRestarts"/> and
/// <paramref name="MaxTaskRetries"/> are Ray's options of the same names (-1 unlimited). <paramref name="Resources"/> is what
/// the actor holds while it lives (Ray's num_cpus, num_gpus, memory and custom resources, see
/// <see cref="Domain.Placement.Request"/>); it is placed on a node that has them free, and waits PENDING_CREATION until one does.
/// </summary>
public sealed record OpenActor(
    string Name,
    string? Key,
    decimal Balance,
    decimal MinimalBalance,
    bool Detached,
    bool GetIfExists,
    string? Owner,
    string? RequestId = null,
    int MaxRestarts = 0,
    int MaxTaskRetries = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, decimal>? Resources = null) : IBankMessage;

/// <param name="OrLatestDead">Without a live actor of that name: the one whose open is under way, else the latest dead one.</param>
public sealed record GetActor(string Name, bool OrLatestDead = false) : IBankMessage;

/// <summary>
/// Stops the named actor with the given death cause; the name is freed and the journal kept. With an
/// <paramref name="Id"/>, only that incarnation: a stale handle cannot kill the name's next holder.
/// </summary>
public sealed record KillActor(string Name, string Cause, string? Id = null, string? RequestId = null) : IBankMessage;

/// <summary>
/// One page of `bank list`: the actors sorted by name (of one name: the open under way, the live one, then the dead
/// oldest first) after <paramref name="After"/>, at most <paramref name="Limit"/> of them (0: a full page, see
/// <see cref="Pages"/>). <paramref name="AfterId"/> continues inside the name <paramref name="After"/>, after the
/// entry of that incarnation id: a page ends there only when one name has more entries than fit a page.
/// </summary>
public sealed record ListActors(string? After = null, int Limit = 0, string? AfterId = null) : IBankMessage
{
    public static readonly ListActors Instance = new();
}

/// <param name="Next">The <see cref="ListActors.After"/> of the next page (with <paramref name="NextId"/>); null on the last page.</param>
public sealed record ActorList(IReadOnlyList<ActorInfo> Actors, string? Next = null, string? NextId = null) : IBankMessage;

/// <summary>The owner (a client session) is gone: its actors that are not detached die with OWNER_DIED.</summary>
public sealed record OwnerEnded(string Owner) : IBankMessage;

public sealed record OwnerReleased(string Owner, int Stopped) : IBankMessage;

/// <summary>A client session is alive; its owner's actors stay alive while these keep coming.</summary>
public sealed record OwnerHeartbeat(string Owner) : IBankMessage;

// Supervision reports from an account's supervisor, by account key and incarnation.

/// <summary>The actor crashed and is being restarted after a backoff: RESTARTING until it is back.</summary>
public sealed record ActorRestarting(string Key, string Id, int Restarts, string Cause) : IBankMessage;

/// <summary>The actor is back after its <paramref name="Restarts"/>th restart: ALIVE.</summary>
public sealed record ActorRestartCompleted(string Key, string Id, int Restarts) : IBankMessage;

/// <summary>The actor crashed with no restarts left: DEAD with MAX_RESTARTS_EXCEEDED. Acknowledged with <see cref="ActorFailureRecorded"/>.</summary>
public sealed record ActorFailed(string Key, string Id, int Restarts, string Cause) : IBankMessage;

public sealed record ActorFailureRecorded(string Key, string Id) : IBankMessage;

// Placement of actors that hold resources.

/// <summary>An account's entity asks where its incarnation must run (after it woke, or lost its node).</summary>
/// <param name="Leaving">A node whose PlacedInstances released the instance because it is shutting down: not to be chosen again.</param>
public sealed record WhereToRun(string Key, string Incarnation, string? Leaving = null) : IBankMessage;

/// <summary>Run the account on <paramref name="Node"/>: its resources are reserved there.</summary>
public sealed record RunAt(string Key, string Incarnation, string Node) : IBankMessage;

/// <summary>
/// No node has the account's resources free: it is PENDING_CREATION since <paramref name="Since"/>. Calls wait up to
/// the pending timeout, then fail with <paramref name="Reason"/>.
/// </summary>
public sealed record PlacementPending(string Key, string Incarnation, string Reason, DateTimeOffset Since) : IBankMessage;

/// <summary>The incarnation holds no placement (it is not live, or asked for no resources): run where it is.</summary>
public sealed record NotPlaced(string Key, string Incarnation) : IBankMessage;

/// <summary>What the live actors hold on each node, for `bank status`.</summary>
public sealed record GetReservations : IBankMessage
{
    public static readonly GetReservations Instance = new();
}

/// <param name="Placed">How many live actors hold resources there.</param>
public sealed record NodeReservation(string Node, IReadOnlyDictionary<string, decimal> Used, int Placed) : IBankMessage;

/// <param name="Pending">Actors waiting for a node with their resources (PENDING_CREATION).</param>
public sealed record Reservations(IReadOnlyList<NodeReservation> Nodes, int Pending) : IBankMessage;

// Between the registry and the placement coordinator (both cluster singletons), by incarnation id.

/// <summary>The registry opens an actor that holds resources: the coordinator places it now, or once a node fits.</summary>
public sealed record ReservePlacement(string Id, string Name, string Key, IReadOnlyDictionary<string, decimal> Resources, DateTimeOffset Since)
    : IBankMessage;

/// <summary>The actor died, or its open ended: what it held is free.</summary>
public sealed record ReleasePlacement(string Id) : IBankMessage;

/// <summary>The coordinator (after it started) asks the registry what its actors hold; answered with <see cref="KnownPlacements"/>.</summary>
public sealed record GetKnownPlacements : IBankMessage
{
    public static readonly GetKnownPlacements Instance = new();
}

/// <summary>
/// What the registry's actors that hold resources hold: the live ones on their node (none while they wait for one) and
/// the opens under way (PENDING_CREATION). Sent on request and whenever the registry has recovered.
/// </summary>
public sealed record KnownPlacements(IReadOnlyList<ActorInfo> Actors) : IBankMessage;

/// <summary>The coordinator found the open a node: its account is created there.</summary>
public sealed record PlaceOpenOn(string Id, string Node) : IBankMessage;

/// <summary>No node took the open within the pending timeout: it fails with CREATION_FAILED.</summary>
public sealed record FailUnplacedOpen(string Id, string Reason) : IBankMessage;

/// <summary>A live actor was placed again, on <paramref name="Node"/>: the registry journals it, then answers <see cref="PlacementRecorded"/>.</summary>
public sealed record RecordPlacement(string Name, string Id, string Node) : IBankMessage;

public sealed record PlacementRecorded(string Id) : IBankMessage;

/// <summary>A live actor lost its node and waits for one that fits: `bank list` shows it PENDING_CREATION.</summary>
public sealed record PlacementLost(string Id) : IBankMessage;
