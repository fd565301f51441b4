using System.Text.Json.Serialization;

namespace Bank.Domain;

/// <summary>What a caller asks an account to do. The discriminators are stable wire names: never rename or reuse one.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$c")]
[JsonDerivedType(typeof(OpenAccount), "open")]
[JsonDerivedType(typeof(Deposit), "deposit")]
[JsonDerivedType(typeof(Withdraw), "withdraw")]
[JsonDerivedType(typeof(GetBalance), "balance")]
[JsonDerivedType(typeof(CloseAccount), "close")]
public interface IAccountCommand;

/// <summary>Opens the account, or reopens it with its restored state under a new incarnation.</summary>
public sealed record OpenAccount(decimal Balance, decimal MinimalBalance, string Incarnation) : IAccountCommand;

/// <param name="RequestId">The caller's id for this call: a retried call with the same id is applied once.</param>
public sealed record Deposit(decimal Amount, string? RequestId = null) : IAccountCommand;

/// <param name="RequestId">The caller's id for this call: a retried call with the same id is applied once.</param>
public sealed record Withdraw(decimal Amount, string? RequestId = null) : IAccountCommand;

public sealed record GetBalance : IAccountCommand
{
    public static readonly GetBalance Instance = new();
}

/// <summary>
/// Ends the given incarnation (killed, exited, owner died). The journal is kept; reopening restores the state.
/// A close for an earlier incarnation does nothing: it must never end a newer one.
/// </summary>
public sealed record CloseAccount(string Reason, string Incarnation) : IAccountCommand;
