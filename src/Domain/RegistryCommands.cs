namespace Bank.Domain;

/// <summary>What the registry is asked to decide; time and fresh ids are inputs, never read inside the model.</summary>
public interface IRegistryCommand;

/// <summary>
/// Get or create the named actor. <paramref name="NewKey"/> is the account key to use when none is given, and
/// <paramref name="NewId"/> the incarnation id of a new actor.
/// </summary>
public sealed record OpenName(
    string Name,
    string? Key,
    bool Detached,
    bool GetIfExists,
    string? Owner,
    string? RequestId,
    int MaxRestarts,
    int MaxTaskRetries,
    ResourceSet Resources,
    string NewKey,
    string NewId) : IRegistryCommand;

/// <summary>The account of an open answered that it runs on <paramref name="Node"/>.</summary>
public sealed record ConfirmCreation(string Name, string Id, string Node) : IRegistryCommand;

/// <summary>No node had the open's resources free within the pending timeout, for <paramref name="Reason"/>.</summary>
public sealed record FailCreation(string Name, string Reason) : IRegistryCommand;

/// <summary>Stop the named actor; with an <paramref name="Id"/>, only that incarnation.</summary>
public sealed record KillName(string Name, string Cause, string? Id) : IRegistryCommand;

/// <summary>The actor's supervisor says it is back after its <paramref name="Restarts"/>th restart.</summary>
public sealed record CompleteRestart(string Key, string Id, int Restarts) : IRegistryCommand;

/// <summary>The actor crashed with no restarts left.</summary>
public sealed record ExhaustRestarts(string Key, string Id, int Restarts) : IRegistryCommand;

/// <summary>The session <paramref name="Owner"/> ended: its actors that are not detached die with OWNER_DIED.</summary>
public sealed record EndOwner(string Owner) : IRegistryCommand;

/// <summary>The owners for which <paramref name="IsGone"/> holds are gone: their actors die with OWNER_DIED.</summary>
public sealed record ReleaseGoneOwners(Func<string, bool> IsGone) : IRegistryCommand;

/// <summary>Why the registry says no, in the words a caller gets.</summary>
public enum RegistryRefusalKind
{
    Usage,
    AlreadyExists,
    NotFound,
    ActorDied,
}

public sealed record RegistryRefusal(RegistryRefusalKind Kind, string Code, string Message);

/// <summary>How many actors of an owner died because it ended.</summary>
public sealed record OwnerActorsReleased(string Owner, int Count);

/// <summary>An incarnation to end in its account's own journal, with the cause of its death.</summary>
public sealed record AccountToClose(string Key, string Id, string Name, string Cause);

/// <summary>
/// The outcome of <see cref="RegistryState.Decide"/>. The actor journals <see cref="Events"/> and applies them, applies
/// <see cref="Changes"/> at once (they are not journaled), ends the accounts of <see cref="Closes"/>, and then answers:
/// <see cref="Reply"/> to the sender (once the closes are confirmed, when there are any), or <see cref="OpenersReply"/>
/// to everyone waiting for the open <see cref="Open"/>. <see cref="Waits"/>: the sender waits for that open.
/// <see cref="Create"/>: the account of that open is to be created now.
/// </summary>
public sealed record RegistryDecision
{
    public static readonly RegistryDecision Nothing = new();

    public IReadOnlyList<IRegistryEvent> Events { get; init; } = [];

    public IReadOnlyList<IPendingChange> Changes { get; init; } = [];

    public IReadOnlyList<AccountToClose> Closes { get; init; } = [];

    /// <summary>An <see cref="ActorInfo"/>, a <see cref="RegistryRefusal"/> or an <see cref="OwnerActorsReleased"/>.</summary>
    public object? Reply { get; init; }

    /// <summary>The open whose requester and waiters get <see cref="OpenersReply"/>, wait, or whose account is created.</summary>
    public string? Open { get; init; }

    public object? OpenersReply { get; init; }

    public bool Waits { get; init; }

    public bool Create { get; init; }

    public static RegistryDecision Answer(object reply) => new() { Reply = reply };

    public static RegistryDecision Refuse(RegistryRefusalKind kind, string code, string message) =>
        Answer(new RegistryRefusal(kind, code, message));
}

/// <summary>
/// The open ends without an actor: its session ended (its openers get OWNER_DIED), or, with
/// <paramref name="AccountRefused"/>, its account refused or could not be reached (the actor passes that answer on).
/// </summary>
public sealed record AbandonOpen(string Name, bool AccountRefused = false) : IRegistryCommand;
