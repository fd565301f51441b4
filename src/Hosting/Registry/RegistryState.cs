using System.Collections.Immutable;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

/// <summary>The registry's table of names, immutable; <see cref="Apply"/> folds its journal's events.</summary>
public sealed record RegistryState(
    ImmutableDictionary<string, ActorInfo> Live,
    ImmutableDictionary<string, string> NamesByKey,
    ImmutableList<ActorInfo> Dead,
    int KeepDead)
{
    public static RegistryState Empty(int keepDead) =>
        new(ImmutableDictionary<string, ActorInfo>.Empty, ImmutableDictionary<string, string>.Empty, [], keepDead);

    public ActorInfo? Find(string name) => Live.GetValueOrDefault(name);

    public string? NameUsingKey(string key) => NamesByKey.GetValueOrDefault(key);

    public RegistryState Apply(object evt) => evt switch
    {
        ActorRegistered registered => this with
        {
            Live = Live.SetItem(registered.Actor.Name, registered.Actor),
            // A name taken over before an earlier holder's death reached the journal no longer holds that key.
            NamesByKey = (Live.TryGetValue(registered.Actor.Name, out var previous) ? NamesByKey.Remove(previous.Key) : NamesByKey)
                .SetItem(registered.Actor.Key, registered.Actor.Name),
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
        _ => throw new ArgumentOutOfRangeException(nameof(evt), evt.GetType().Name, "Unknown registry event"),
    };

    /// <summary>Live actors by name, then the dead ones, oldest death first.</summary>
    public IReadOnlyList<ActorInfo> All() =>
        [.. Live.Values.OrderBy(a => a.Name, StringComparer.Ordinal), .. Dead];

    public RegistrySnapshot ToSnapshot() => new([.. Live.Values], [.. Dead]);

    public static RegistryState FromSnapshot(RegistrySnapshot snapshot, int keepDead) =>
        new(
            snapshot.Live.ToImmutableDictionary(a => a.Name),
            snapshot.Live.ToImmutableDictionary(a => a.Key, a => a.Name),
            [.. snapshot.Dead],
            keepDead);

    private ImmutableList<ActorInfo> Trim(ImmutableList<ActorInfo> dead) =>
        dead.Count <= KeepDead ? dead : dead.RemoveRange(0, dead.Count - KeepDead);
}
