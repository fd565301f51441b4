using System.Text.Json.Serialization;

namespace Bank.Domain;

/// <summary>Facts the account has accepted; they are journaled and replayed. Add new types, never change these.</summary>
public interface IAccountEvent;

/// <param name="MaxRestarts">Ray's max_restarts of this incarnation; absent in journals written before supervision (0).</param>
/// <param name="MaxTaskRetries">Ray's max_task_retries of this incarnation; absent in older journals (0).</param>
/// <param name="Resources">What this incarnation holds where it runs (num_cpus, num_gpus, memory, custom); absent: none asked.</param>
public sealed record AccountOpened(
    decimal Balance,
    decimal MinimalBalance,
    string Incarnation,
    int MaxRestarts = 0,
    int MaxTaskRetries = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, decimal>? Resources = null)
    : IAccountEvent;

/// <summary>A closed or abandoned account was opened again: same balance, new incarnation, that incarnation's supervision and resources.</summary>
public sealed record AccountReopened(
    string Incarnation,
    decimal Balance,
    int MaxRestarts = 0,
    int MaxTaskRetries = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, decimal>? Resources = null)
    : IAccountEvent;

/// <summary>The incarnation was restarted after a crash; <paramref name="Restarts"/> counts its restarts so far.</summary>
public sealed record AccountRestarted(int Restarts, string Cause) : IAccountEvent;

/// <param name="RequestId">The id of the call that made it, kept so that a retry of that call is not applied again.</param>
public sealed record Deposited(
    decimal Amount,
    decimal Balance,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RequestId = null) : IAccountEvent;

/// <param name="RequestId">The id of the call that made it, kept so that a retry of that call is not applied again.</param>
public sealed record Withdrawn(
    decimal Amount,
    decimal Balance,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RequestId = null) : IAccountEvent;

public sealed record AccountClosed(string Reason, decimal Balance) : IAccountEvent;

/// <summary>The ids of a finished transfer's steps are no longer held.</summary>
public sealed record RequestsReleased(IReadOnlyList<string> RequestIds) : IAccountEvent;
