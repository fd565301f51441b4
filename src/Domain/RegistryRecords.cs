using System.Text.Json.Serialization;

namespace Bank.Domain;

/// <summary>Lifecycle states of a named actor, as Ray names them.</summary>
public enum ActorState
{
    PendingCreation,
    Alive,
    Restarting,
    Dead,
}

public static class ActorStates
{
    /// <summary>The state as Ray prints it: PENDING_CREATION, ALIVE, RESTARTING, DEAD.</summary>
    public static string Display(this ActorState state) => state switch
    {
        ActorState.PendingCreation => "PENDING_CREATION",
        ActorState.Alive => "ALIVE",
        ActorState.Restarting => "RESTARTING",
        _ => "DEAD",
    };
}

/// <summary>Why a dead actor died.</summary>
public static class DeathCauses
{
    public const string Killed = "KILLED";
    public const string Exited = "EXITED";
    public const string OwnerDied = "OWNER_DIED";
    public const string MaxRestartsExceeded = "MAX_RESTARTS_EXCEEDED";
    public const string CreationFailed = "CREATION_FAILED";
}

/// <summary>
/// What the registry journals and answers with: its events, its snapshot and <see cref="ActorInfo"/>. The node binds
/// these to Bank's serializer by this interface, as it binds account events by <see cref="IAccountEvent"/>.
/// </summary>
public interface IRegistryRecord;

/// <summary>An event of the registry's journal, folded by <see cref="RegistryState.Apply"/>.</summary>
public interface IRegistryEvent : IRegistryRecord;

/// <summary>One named actor: which account it serves, which incarnation, and how it lives.</summary>
public sealed record ActorInfo(
    string Name,
    string Key,
    string Id,
    ActorState State,
    string? DeathCause,
    bool Detached,
    string? Owner,
    string Node,
    int Restarts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DiedAt,
    int MaxRestarts = 0,
    int MaxTaskRetries = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, decimal>? Resources = null) : IRegistryRecord
{
    /// <summary>What the actor holds where it runs (see <see cref="Placement"/>); empty when it asked for nothing.</summary>
    [JsonIgnore]
    public ResourceSet Held => ResourceSet.From(Resources);

    /// <summary>Ray prints a handle as <c>Actor(Account, id)</c>.</summary>
    public override string ToString() => $"Actor(Account, {Id})";
}

public sealed record ActorRegistered(ActorInfo Actor) : IRegistryEvent;

public sealed record ActorDeathRecorded(string Name, string Id, string Cause, DateTimeOffset At) : IRegistryEvent;

/// <summary>The actor's restart count, shown by `bank list`.</summary>
public sealed record ActorRestartRecorded(string Name, string Id, int Restarts) : IRegistryEvent;

/// <summary>The actor now runs (holds its resources) on <paramref name="Node"/>.</summary>
public sealed record ActorPlaced(string Name, string Id, string Node) : IRegistryEvent;

public sealed record RegistrySnapshot(IReadOnlyList<ActorInfo> Live, IReadOnlyList<ActorInfo> Dead) : IRegistryRecord;
