using System.Collections.Immutable;

namespace Bank.Domain;

/// <summary>
/// The registry of named actors, immutable: its table of names (folded from its journal by <see cref="Apply"/>) and the
/// opens under way (<see cref="Pending"/>, never journaled). <see cref="Decide"/> applies the registry's rules to a
/// command; the actor persists the events it returns, applies them and replies.
/// </summary>
public sealed partial record RegistryState(
    ImmutableDictionary<string, ActorInfo> Live,
    ImmutableDictionary<string, string> NamesByKey,
    ImmutableList<ActorInfo> Dead,
    int KeepDead)
{
    public static RegistryState Empty(int keepDead) =>
        new(ImmutableDictionary<string, ActorInfo>.Empty, ImmutableDictionary<string, string>.Empty, [], keepDead);

    /// <summary>Opens under way by name: the name and the key are reserved while the account is being created.</summary>
    public ImmutableDictionary<string, PendingOpen> Pending { get; init; } = ImmutableDictionary<string, PendingOpen>.Empty;

    public ActorInfo? Find(string name) => Live.GetValueOrDefault(name);

    public string? NameUsingKey(string key) => NamesByKey.GetValueOrDefault(key);

    /// <summary>The live actor of this account key and incarnation, or null when that incarnation is not live.</summary>
    public ActorInfo? LiveByKey(string key, string id) =>
        NameUsingKey(key) is { } name && Find(name) is { } actor && actor.Id == id ? actor : null;

    /// <summary>Folds a journaled event, or a change of the opens under way (<see cref="IPendingChange"/>).</summary>
    public RegistryState Apply(object evt) => evt switch
    {
        ActorRegistered registered => this with
        {
            Live = Live.SetItem(registered.Actor.Name, registered.Actor),
            // A name taken over before an earlier holder's death reached the journal no longer holds that key.
            NamesByKey = (Live.TryGetValue(registered.Actor.Name, out var previous) ? NamesByKey.Remove(previous.Key) : NamesByKey)
                .SetItem(registered.Actor.Key, registered.Actor.Name),
            Pending = Pending.TryGetValue(registered.Actor.Name, out var open) && open.Id == registered.Actor.Id
                ? Pending.Remove(open.Name)
                : Pending,
        },
        ActorDeathRecorded died when Live.TryGetValue(died.Name, out var actor) && actor.Id == died.Id => this with
        {
            Live = Live.Remove(died.Name),
            NamesByKey = NamesByKey.Remove(actor.Key),
            Dead = Trim(Dead.Add(actor with { State = ActorState.Dead, DeathCause = died.Cause, DiedAt = died.At })),
        },
        ActorDeathRecorded => this,
        ActorRestartRecorded restarted when Live.TryGetValue(restarted.Name, out var actor) && actor.Id == restarted.Id => this with
        {
            Live = Live.SetItem(actor.Name, actor with { Restarts = restarted.Restarts }),
        },
        ActorRestartRecorded => this,
        ActorPlaced placed when Live.TryGetValue(placed.Name, out var actor) && actor.Id == placed.Id => this with
        {
            Live = Live.SetItem(actor.Name, actor with { Node = placed.Node }),
        },
        ActorPlaced => this,
        OpenReserved reserved => this with { Pending = Pending.SetItem(reserved.Open.Name, reserved.Open) },
        OpenPlaced placed when Pending.TryGetValue(placed.Name, out var open) => this with
        {
            Pending = Pending.SetItem(open.Name, open with { Node = placed.Node }),
        },
        OpenOrphaned orphaned when Pending.TryGetValue(orphaned.Name, out var open) => this with
        {
            Pending = Pending.SetItem(open.Name, open with { OwnerEnded = true }),
        },
        OpenEnded ended => this with { Pending = Pending.Remove(ended.Name) },
        IPendingChange => this,
        _ => throw new ArgumentOutOfRangeException(nameof(evt), evt.GetType().Name, "Unknown registry event"),
    };

    /// <summary>Live actors by name, then the dead ones, oldest death first.</summary>
    public IReadOnlyList<ActorInfo> All() =>
        [.. Live.Values.OrderBy(a => a.Name, StringComparer.Ordinal), .. Dead];

    public RegistrySnapshot ToSnapshot() => new([.. Live.Values], [.. Dead]);

    /// <summary>How many actors a snapshot of this state holds.</summary>
    public int SnapshotSize => Live.Count + Dead.Count;

    public static RegistryState FromSnapshot(RegistrySnapshot snapshot, int keepDead) =>
        new(
            snapshot.Live.ToImmutableDictionary(a => a.Name),
            snapshot.Live.ToImmutableDictionary(a => a.Key, a => a.Name),
            [.. snapshot.Dead],
            keepDead);

    private ImmutableList<ActorInfo> Trim(ImmutableList<ActorInfo> dead) =>
        dead.Count <= KeepDead ? dead : dead.RemoveRange(0, dead.Count - KeepDead);
}

/// <summary>
/// An open under way: its name and key are reserved, its account is being created (on <see cref="Node"/> when it holds
/// resources, once a node has them free).
/// </summary>
public sealed record PendingOpen(
    string Name,
    string Key,
    string Id,
    string? RequestId,
    bool Detached,
    string? Owner,
    int MaxRestarts,
    int MaxTaskRetries,
    ResourceSet Resources,
    DateTimeOffset Since)
{
    /// <summary>The node its resources are reserved on; null while no node has them free (or it holds none).</summary>
    public string? Node { get; init; }

    /// <summary>The session that asked ended before the account answered: the actor dies as it is born.</summary>
    public bool OwnerEnded { get; init; }

    /// <summary>Waiting for a node with its resources free (PENDING_CREATION).</summary>
    public bool WaitsForNode => Node is null && !Resources.IsEmpty;

    /// <summary>The actor as the registry shows or records it, in <paramref name="state"/>.</summary>
    public ActorInfo ToInfo(ActorState state, string node, DateTimeOffset createdAt) =>
        new(Name, Key, Id, state, null, Detached, Detached ? null : Owner, node, 0, createdAt, null, MaxRestarts, MaxTaskRetries,
            Resources.ToAmounts());
}

/// <summary>A change of the opens under way: applied at once, never journaled (an open is lost with the registry).</summary>
public interface IPendingChange;

public sealed record OpenReserved(PendingOpen Open) : IPendingChange;

public sealed record OpenPlaced(string Name, string Node) : IPendingChange;

public sealed record OpenOrphaned(string Name) : IPendingChange;

public sealed record OpenEnded(string Name) : IPendingChange;
