namespace Bank.Domain;

/// <summary>
/// The ids a client chooses (request, transfer, open and kill ids), and the namespace the node puts them in. A client's
/// request id reaches an account only as <see cref="Scope"/> made it, under <see cref="ScopePrefix"/>; the ids the system
/// makes for its own steps (<see cref="InternalIds"/>) never start with it, so no client id can equal an internal one,
/// whatever its shape. Validation keeps ids short and printable, and without ':', the separator of internal ids.
/// </summary>
public static class ClientIds
{
    public const int MaxLength = 128;

    /// <summary>The characters a client id may hold, for messages and docs.</summary>
    public const string Characters = "letters A-Z a-z, digits 0-9, '.', '_', '~' and '-'";

    /// <summary>What the node puts before every client request id it passes on to an account.</summary>
    public const string ScopePrefix = "client:";

    public static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '~' or '-';

    /// <returns>null when <paramref name="id"/> is a valid client id, else why not, in one line that names <paramref name="what"/>.</returns>
    public static string? Validate(string? id, string what)
    {
        if (string.IsNullOrEmpty(id))
            return $"{what} must not be empty";
        if (id.Length > MaxLength)
            return $"{what} is {id.Length} characters long; the limit is {MaxLength}";
        if (!id.All(IsAllowed))
            return $"{what} '{TextEcho.OneLine(id)}' may contain only {Characters}";
        return null;
    }

    /// <summary>The id under which an account applies a client's call: in the client namespace, never an internal id.</summary>
    public static string Scope(string id) => ScopePrefix + id;

    public static bool IsScoped(string? requestId) => requestId is not null && requestId.StartsWith(ScopePrefix, StringComparison.Ordinal);

    /// <summary>The id as its client chose it (for history), or the id itself when it is not a client's.</summary>
    public static string? Unscope(string? requestId) => IsScoped(requestId) ? requestId![ScopePrefix.Length..] : requestId;
}

/// <summary>The ids the system makes for its own account calls; none is ever in the client namespace.</summary>
public static class InternalIds
{
    /// <summary>What every transfer step's id starts with; an account holds such ids until the transfer releases them.</summary>
    public const string TransferPrefix = "transfer:";

    /// <summary>The id of a transfer saga's <paramref name="step"/> (withdraw, deposit, refund) on an account.</summary>
    public static string TransferStep(string transferId, string step) => $"{TransferPrefix}{transferId}:{step}";

    public static bool IsTransferStep(string? requestId) => requestId is not null && requestId.StartsWith(TransferPrefix, StringComparison.Ordinal);
}
