using Bank.Domain;

namespace Bank.Hosting.Contracts;

/// <summary>
/// Which "not done now, try again" answers (ClusterUnreachable) say the operation was certainly not done, for the client
/// that resends under the same id until its deadline and then fails with ClusterUnreachable (certainly not done) or
/// OutcomeUnknown (maybe done). The node picks its codes by this rule (docs/semantics.md#ids, the lead's DESIGN17).
/// </summary>
public static class RetryPolicy
{
    /// <summary>Nothing was handed to an account instance or the journal: a call refused with one of these was not applied.</summary>
    public static readonly IReadOnlySet<string> CertainlyNotDone = new HashSet<string>(StringComparer.Ordinal)
    {
        // Held by a supervisor and never handed to an instance.
        "Moving",
        // Refused before anything reached the journal (breaker open, the account could not recover).
        "JournalUnavailable",
        "ShuttingDown",
        "NotReady",
        // A door refused it before passing it on; a TLS connection that never carried it.
        "DoorBusy",
        "Tls",
        // Held while the account waited for a node, never handed to an instance.
        "PendingCreation",
        "PlacementLost",
    };

    /// <summary>A write was handed to the journal and failed or timed out: it may be committed.</summary>
    public const string JournalWriteFailed = "JournalWriteFailed";

    /// <summary>An unknown id first sent longer ago than the account remembers ids: it may have been applied and forgotten.</summary>
    public const string IdExpired = Rules.IdExpiredCode;

    /// <summary>Whether the refusal <paramref name="code"/> (of kind ClusterUnreachable) says the operation was certainly not done.</summary>
    public static bool IsCertainlyNotDone(string code) => CertainlyNotDone.Contains(code);

    /// <summary>An answer that means "not done now, try again": the client resends the same message (same id).</summary>
    public static bool IsTryAgain(object answer) => answer is Rejected { Kind: ErrorKind.ClusterUnreachable };

    /// <summary>
    /// The id that makes resending <paramref name="request"/> safe, for the message that names it when the outcome is
    /// unknown; null for reads and other requests that change nothing an id protects (they end as ClusterUnreachable).
    /// </summary>
    public static string? IdOf(object request) => request switch
    {
        AccountRequest call => IdOf(call.Command),
        NamedAccountRequest call => IdOf(call.Command),
        TransferMoney transfer => transfer.TransferId,
        OpenActor open => open.RequestId,
        KillActor kill => kill.RequestId,
        Deposit deposit => ClientIds.Unscope(deposit.RequestId),
        Withdraw withdraw => ClientIds.Unscope(withdraw.RequestId),
        _ => null,
    };
}
