namespace Bank.Domain;

/// <summary>A business rule said no. The caller gets it back; nothing is persisted and the actor keeps running.</summary>
public sealed record RuleViolation(string Code, string Message)
{
    public override string ToString() => Message;
}

/// <summary>Every rule violation the account can return, with the exact texts of the product contract.</summary>
public static class Rules
{
    public static readonly RuleViolation StartingBalanceBelowMinimal =
        new(nameof(StartingBalanceBelowMinimal), "Starting balance is less than minimal balance");

    public static readonly RuleViolation NegativeDeposit =
        new(nameof(NegativeDeposit), "Cannot deposit negative amount");

    public static readonly RuleViolation NegativeWithdrawal =
        new(nameof(NegativeWithdrawal), "Cannot withdraw negative amount");

    public static readonly RuleViolation InsufficientBalance =
        new(nameof(InsufficientBalance), "Withdrawal is not supported by current balance");

    public static readonly RuleViolation AmountOutOfRange =
        new(nameof(AmountOutOfRange), Money.OutOfRangeMessage);

    public static readonly RuleViolation TooPrecise =
        new(nameof(TooPrecise), Money.TooPreciseMessage);

    public static readonly RuleViolation BalanceLimitExceeded =
        new(nameof(BalanceLimitExceeded), "Deposit would take the balance above 2^63");

    public static readonly RuleViolation NotOpen =
        new(nameof(NotOpen), "Account is not open");

    public static readonly RuleViolation Closed =
        new(nameof(Closed), "Account is closed");

    public static readonly RuleViolation StaleIncarnation =
        new(nameof(StaleIncarnation), "The caller's actor is an earlier incarnation of this account");

    public static readonly RuleViolation NotApplied =
        new(nameof(NotApplied), "The account has not applied that request");

    /// <summary>
    /// A request id the account remembers came again with another operation or amount: the account neither applies it nor
    /// answers with the first call's outcome, which belongs to something else.
    /// </summary>
    public static RuleViolation IdReused(string requestId, string earlier) =>
        new(nameof(IdReused), $"request id '{TextEcho.OneLine(ClientIds.Unscope(requestId)!)}' was already used for {earlier}; use a new id for another operation");

    public const string IdExpiredCode = "IdExpired";

    /// <summary>
    /// An id the account does not remember, first sent so long ago that the account may have applied it and forgotten it
    /// since: applying it now could apply it twice, so it is refused (the caller hears OutcomeUnknown).
    /// </summary>
    public static RuleViolation IdExpired(string requestId, TimeSpan age) =>
        new(IdExpiredCode, $"request id '{TextEcho.OneLine(ClientIds.Unscope(requestId)!)}' was first sent {Ago(age)} ago; " +
                           "the account may have forgotten it; check `bank history` before sending it again");

    private static string Ago(TimeSpan age) =>
        age >= TimeSpan.FromMinutes(1) ? $"{(int)age.TotalMinutes} min" : $"{age.TotalSeconds:0.#} s";

    /// <summary>The account holds the step ids of as many unfinished transfers as it may: a new one must wait.</summary>
    public static readonly RuleViolation TransfersInFlight =
        new(nameof(TransfersInFlight), $"The account has {AccountState.MaxHeldRequests} transfer steps in flight; try again when some have finished");

    /// <summary>Supervision options that cannot be used together, in Ray's words where Ray has them.</summary>
    public static RuleViolation InvalidSupervision(string message) => new(nameof(InvalidSupervision), message);
}
