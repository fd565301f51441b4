using Bank.Hosting.Contracts;

namespace Bank.Hosting.Client;

/// <summary>A typed error from a Bank call: what kind, and a one-line message for people.</summary>
public sealed class BankException(ErrorKind kind, string code, string message, string? requestId = null) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;

    /// <summary>The rule or condition, e.g. <c>InsufficientBalance</c>.</summary>
    public string Code { get; } = code;

    /// <summary>With OutcomeUnknown: the id to resend the operation under (it is applied once however often it is sent); else null.</summary>
    public string? RequestId { get; } = requestId;

    public static BankException From(Rejected rejected) => new(rejected.Kind, rejected.Code, rejected.Message);
}
