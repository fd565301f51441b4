using System.Text.Json.Serialization;

namespace Bank.Domain;

/// <summary>What a caller asks an account to do. The discriminators are stable wire names: never rename or reuse one.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$c")]
[JsonDerivedType(typeof(OpenAccount), "open")]
[JsonDerivedType(typeof(Deposit), "deposit")]
[JsonDerivedType(typeof(Withdraw), "withdraw")]
[JsonDerivedType(typeof(GetBalance), "balance")]
[JsonDerivedType(typeof(CloseAccount), "close")]
[JsonDerivedType(typeof(Refund), "refund")]
[JsonDerivedType(typeof(RecordRestarts), "record-restarts")]
[JsonDerivedType(typeof(FindApplied), "find-applied")]
[JsonDerivedType(typeof(ReleaseRequests), "release-requests")]
public interface IAccountCommand;

/// <summary>
/// Opens the account, or reopens it with its restored state under a new incarnation. The incarnation's supervision
/// (max restarts, max task retries) and the resources it holds (see <see cref="Placement"/>; null: none asked) are
/// journaled with it, so they hold wherever and whenever the account wakes.
/// </summary>
public sealed record OpenAccount(
    decimal Balance,
    decimal MinimalBalance,
    string Incarnation,
    int MaxRestarts = 0,
    int MaxTaskRetries = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, decimal>? Resources = null) : IAccountCommand
{
    public Supervision Supervision => new(MaxRestarts, MaxTaskRetries);
}

/// <param name="RequestId">The caller's id for this call: a retried call with the same id is applied once.</param>
/// <param name="Age">
/// How long ago the caller first sent this id, on the caller's monotonic clock (zero on a first send): an unknown id older
/// than the account remembers ids is refused (<see cref="Rules.IdExpired"/>) rather than applied as new.
/// </param>
public sealed record Deposit(
    decimal Amount,
    string? RequestId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] TimeSpan Age = default) : IAccountCommand;

/// <param name="RequestId">The caller's id for this call: a retried call with the same id is applied once.</param>
/// <param name="Age">How long ago the caller first sent this id (see <see cref="Deposit.Age"/>).</param>
public sealed record Withdraw(
    decimal Amount,
    string? RequestId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] TimeSpan Age = default) : IAccountCommand;

public sealed record GetBalance : IAccountCommand
{
    public static readonly GetBalance Instance = new();
}

/// <summary>
/// Ends the given incarnation (killed, exited, owner died). The journal is kept; reopening restores the state.
/// A close for an earlier incarnation does nothing: it must never end a newer one.
/// </summary>
public sealed record CloseAccount(string Reason, string Incarnation) : IAccountCommand;

/// <summary>
/// Gives money back to an account whatever its incarnation, open or closed: a transfer whose target refused the
/// deposit returns the withdrawn amount to its source, even if the source was killed meanwhile. Applied once per id.
/// </summary>
public sealed record Refund(decimal Amount, string RequestId) : IAccountCommand;

/// <summary>The account's supervisor restarted it after crashes: the count of restarts of this incarnation is now <paramref name="Restarts"/>.</summary>
public sealed record RecordRestarts(int Restarts, string Cause) : IAccountCommand;

/// <summary>
/// Did this account apply the call with <paramref name="RequestId"/>? Answered by any incarnation, open or closed, from
/// the latest remembered ids: a transfer asks it when a step's answer was lost with the actor that gave it.
/// </summary>
public sealed record FindApplied(string RequestId) : IAccountCommand;

/// <summary>A finished transfer no longer needs the account to hold the ids of its steps (see AccountState.HeldRequests).</summary>
public sealed record ReleaseRequests(IReadOnlyList<string> RequestIds) : IAccountCommand;
