using Bank.Hosting.Contracts;

namespace Bank.Hosting.Client;

/// <summary>A typed error from a Bank call: what kind, and a one-line message for people.</summary>
public sealed class BankException(ErrorKind kind, string code, string message) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;

    /// <summary>The rule or condition, e.g. <c>InsufficientBalance</c>.</summary>
    public string Code { get; } = code;

    public static BankException From(Rejected rejected) => new(rejected.Kind, rejected.Code, rejected.Message);
}
