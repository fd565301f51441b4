using System.Text.Json.Serialization;

namespace Bank.Domain;

/// <summary>Facts the account has accepted; they are journaled and replayed. Add new types, never change these.</summary>
public interface IAccountEvent;

public sealed record AccountOpened(decimal Balance, decimal MinimalBalance, string Incarnation) : IAccountEvent;

/// <summary>A closed or abandoned account was opened again: same balance, new incarnation.</summary>
public sealed record AccountReopened(string Incarnation, decimal Balance) : IAccountEvent;

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
