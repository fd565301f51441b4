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

    /// <summary>
    /// With OutcomeUnknown of a deposit or withdrawal: when its id was first sent (UTC), to resend it with, so that an account
    /// that may have forgotten the id refuses it rather than apply it twice (<c>--first-sent</c>); else null.
    /// </summary>
    public DateTimeOffset? FirstSent { get; init; }

    /// <summary>
    /// Whether sending the same message again, under the same id, is safe and may succeed: "not done now" answers and an
    /// outcome the session could not learn before its deadline, but not an id the account may have forgotten (IdExpired).
    /// </summary>
    public bool MayResendSameId => Kind == ErrorKind.ClusterUnreachable || (Kind == ErrorKind.OutcomeUnknown && Code != RetryPolicy.IdExpired);

    public static BankException From(Rejected rejected) => new(rejected.Kind, rejected.Code, rejected.Message);
}
