using Akka.Actor;
using Bank.Domain;

namespace Bank.Hosting.Accounts;

/// <summary>Marker of every message and snapshot that crosses the wire or the journal, for the serializer binding.</summary>
public interface IBankMessage;

/// <summary>Messages routed by Cluster Sharding to the account whose key they carry.</summary>
public interface IAccountEnvelope : IBankMessage
{
    string Key { get; }
}

/// <summary>A command for one incarnation of an account. A stale incarnation is answered with ActorDied.</summary>
public sealed record AccountRequest(string Key, string Incarnation, IAccountCommand Command) : IAccountEnvelope;

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
}

/// <summary>Any refusal, from an account or from the registry, with a one-line message for people.</summary>
public sealed record Rejected(ErrorKind Kind, string Code, string Message) : IBankMessage
{
    public static Rejected Rule(RuleViolation violation) => new(ErrorKind.RuleViolation, violation.Code, violation.Message);

    public static Rejected NotFound(string name) => new(ErrorKind.ActorNotFound, nameof(ErrorKind.ActorNotFound), $"no actor named '{name}'");
}

/// <summary>
/// Fault injection (`bank chaos crash`): the account throws on its next <paramref name="Times"/> calls other than balance
/// reads, each after its work is done and before it answers. Refused unless the account's node runs with --allow-fault-injection.
/// </summary>
public sealed record InjectCrash(string Key, string Incarnation, int Times) : IAccountEnvelope;

/// <summary>The account on <paramref name="Node"/> will crash on its next <paramref name="Times"/> calls.</summary>
public sealed record CrashInjected(string Key, int Times, string Node) : IBankMessage;

/// <summary>Sent from an <see cref="AccountSupervisor"/> to its account instance: a call to answer with <see cref="SupervisedAnswer"/>.</summary>
internal sealed record SupervisedCall(long Seq, AccountRequest Request, bool Crash);

internal sealed record SupervisedAnswer(long Seq, object Reply);

/// <summary>An account instance recovered: the incarnation's supervision and the restarts its journal records.</summary>
internal sealed record AccountStarted(IActorRef Account, string Incarnation, Supervision Supervision, int Restarts);

/// <summary>The BackoffSupervisor's strategy saw the account instance fail and is restarting it after a backoff.</summary>
internal sealed record AccountCrashed(string Cause, bool Injected);

/// <summary>What `bank chaos crash` makes an account throw.</summary>
public sealed class InjectedCrash(string key) : Exception($"injected crash of account {key} ({Marker})")
{
    /// <summary>In every injected crash's message, so that logs can leave out the failures that were asked for.</summary>
    public const string Marker = "bank chaos crash";
}
