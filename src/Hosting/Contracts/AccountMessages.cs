using System.Text.Json.Serialization;
using Akka.Actor;
using Bank.Domain;

namespace Bank.Hosting.Contracts;

/// <summary>Marker of every message and snapshot that crosses the wire or the journal, for the serializer binding.</summary>
public interface IBankMessage;

/// <summary>Messages routed by Cluster Sharding to the account whose key they carry.</summary>
public interface IAccountEnvelope : IBankMessage
{
    string Key { get; }
}

/// <summary>A command for one incarnation of an account. A stale incarnation is answered with ActorDied.</summary>
/// <param name="Placement">
/// Set by the registry only: the node (address) where the account must run from now on, chosen for the resources it
/// holds. The account's entity moves its instance there before it handles the command.
/// </param>
public sealed record AccountRequest(string Key, string Incarnation, IAccountCommand Command, string? Placement = null) : IAccountEnvelope;

/// <summary>
/// An account call from inside a node under the id its answer comes back under: the account's entity answers it with a
/// <see cref="CorrelatedAccountReply"/> of the same id, to the node's one reply address (InFlightCalls), so that a call
/// needs no temporary actor of its own.
/// </summary>
public sealed record TrackedAccountRequest(long Id, AccountRequest Request) : IAccountEnvelope
{
    [JsonIgnore]
    public string Key => Request.Key;
}

/// <summary>Success: the account's state after the command, and how often this incarnation has been restarted.</summary>
public sealed record AccountReply(string Key, string Incarnation, decimal Balance, decimal MinimalBalance, long Version, string Node, int Restarts = 0)
    : IBankMessage;

/// <summary>Asks an account how it recovered; used by tests and benchmarks.</summary>
public sealed record AccountProbe(string Key) : IAccountEnvelope;

/// <summary>How the account's current instance recovered: from which snapshot, replaying how many events.</summary>
public sealed record AccountRecoveryInfo(
    string Key,
    string InstanceId,
    long LastSequenceNr,
    long SnapshotSequenceNr,
    int EventsReplayed,
    AccountStatus Status) : IBankMessage;

/// <summary>The kinds of error a caller can get; the CLI maps them to exit codes.</summary>
public enum ErrorKind
{
    RuleViolation,
    AlreadyExists,
    ActorNotFound,
    ActorDied,
    Usage,
    ClusterUnreachable,

    /// <summary>The caller's credential is missing, not valid, or its role may not send the request (CLI exit 5).</summary>
    Unauthorized,

    /// <summary>
    /// No final answer before the client's retry deadline, and the operation may have been applied: resend it under the
    /// same id (<see cref="RetryPolicy"/>; CLI exit 4, like ClusterUnreachable, which means certainly not done).
    /// </summary>
    OutcomeUnknown,
}

/// <summary>Any refusal, from an account or from the registry, with a one-line message for people.</summary>
public sealed record Rejected(ErrorKind Kind, string Code, string Message) : IBankMessage
{
    /// <summary>A rule's refusal; an id the account may have forgotten is OutcomeUnknown, since the call may have been applied.</summary>
    public static Rejected Rule(RuleViolation violation) =>
        new(violation.Code == Rules.IdExpiredCode ? ErrorKind.OutcomeUnknown : ErrorKind.RuleViolation, violation.Code, violation.Message);

    /// <summary>A request the door refuses: no valid credential, or a role that may not send it.</summary>
    public static Rejected Unauthorized(string why) => new(ErrorKind.Unauthorized, nameof(ErrorKind.Unauthorized), why);

    public static Rejected NotFound(string name) => new(ErrorKind.ActorNotFound, nameof(ErrorKind.ActorNotFound), $"no actor named '{name}'");
}

/// <summary>
/// Fault injection (`bank chaos crash`): the account throws on its next <paramref name="Times"/> calls other than balance
/// reads, each after its work is done and before it answers. Refused unless the account's node runs with --allow-fault-injection.
/// </summary>
public sealed record InjectCrash(string Key, string Incarnation, int Times) : IAccountEnvelope;

/// <summary>The account on <paramref name="Node"/> will crash on its next <paramref name="Times"/> calls.</summary>
public sealed record CrashInjected(string Key, int Times, string Node) : IBankMessage;

// Between an AccountSupervisor and its account instance, which runs on another node when the account was placed there
// for its resources (see PlacedInstances): these cross the wire.

/// <summary>Sent from an account's supervisor to its account instance: a call to answer with <see cref="SupervisedAnswer"/>.</summary>
public sealed record SupervisedCall(long Seq, AccountRequest Request, bool Crash) : IBankMessage;

/// <summary>The instance's answer to a <see cref="SupervisedCall"/>: an <see cref="AccountReply"/> or a <see cref="Rejected"/>.</summary>
public sealed record SupervisedAnswer(long Seq, AccountReply? Reply, Rejected? Refusal) : IBankMessage
{
    public static SupervisedAnswer For(long seq, object reply) => reply switch
    {
        AccountReply accepted => new(seq, accepted, null),
        Rejected refused => new(seq, null, refused),
        _ => throw new ArgumentOutOfRangeException(nameof(reply), reply.GetType().Name, "An account answers with a reply or a refusal"),
    };

    [JsonIgnore]
    public object Answer => (object?)Reply ?? Refusal!;
}

/// <summary>
/// An account instance recovered (or opened an incarnation): the incarnation's supervision, the restarts its journal
/// records, the resources it holds (null: none), and the node it runs on.
/// </summary>
public sealed record AccountStarted(string Incarnation, Supervision Supervision, int Restarts, string Node,
    IReadOnlyDictionary<string, decimal>? Resources = null) : IBankMessage;

/// <summary>The BackoffSupervisor's strategy saw the account instance fail and is restarting it after a backoff.</summary>
public sealed record AccountCrashed(string Cause, bool Injected) : IBankMessage;

/// <summary>
/// The <see cref="PlacedInstances"/> of <paramref name="Node"/> is shutting down with its node: it stops the account's instance now, before the
/// node leaves, so that the account moves while no instance of it runs there any more.
/// </summary>
public sealed record AccountInstanceReleased(string Key, string Node) : IBankMessage;

/// <summary>The account instance closed its incarnation and asks to be stopped (a Passivate, from another node).</summary>
public sealed record AccountInstanceDone(string Key) : IBankMessage;

/// <summary>What `bank chaos crash` makes an account throw.</summary>
public sealed class InjectedCrash(string key) : Exception($"injected crash of account {key} ({Marker})")
{
    /// <summary>In every injected crash's message, so that logs can leave out the failures that were asked for.</summary>
    public const string Marker = "bank chaos crash";
}
