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

/// <summary>Success: the account's state after the command.</summary>
public sealed record AccountReply(string Key, string Incarnation, decimal Balance, decimal MinimalBalance, long Version, string Node)
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
