using System.CommandLine;
using System.Globalization;
using Bank.Domain;

namespace Bank.Nodes.Cli;

/// <summary>
/// `--id ID` of deposit, withdraw, open and kill: the operation's own id, so that a script that got exit 4 can send the
/// very same operation again and have it applied once (README, "Retrying safely").
/// </summary>
public static class RequestIdOption
{
    public static readonly Option<string?> Id = new("--id")
    {
        HelpName = "ID",
        Description = "The operation's id (1 to 128 letters, digits, '.', '_', '~' or '-'): sent again under it, within " +
                      "bank.accounts.request-id-retention (10 min), it is applied once; after exit 4 (OutcomeUnknown) resend it so.",
    };

    public static readonly Option<string?> FirstSent = new("--first-sent")
    {
        HelpName = "UTC",
        Description = "With --id, when that id was first sent (e.g. 2026-12-04T15:32:00Z, as exit 4 prints it): an account that " +
                      "may have forgotten the id since refuses it (IdExpired) rather than apply it twice.",
    };

    /// <summary>--first-sent, checked before anything connects: a UTC time, and only with --id; null when not given.</summary>
    public static DateTimeOffset? FirstSentOf(ParseResult parsed)
    {
        if (parsed.GetValue(FirstSent) is not { } text) return null;
        if (parsed.GetValue(Id) is null)
            throw new UsageException("--first-sent says when the --id given was first sent; give --id too");
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new UsageException($"--first-sent must be a UTC time such as 2026-12-04T15:32:00Z, not '{TextEcho.OneLine(text)}'");
    }

    /// <summary>The id given, checked before anything connects; null when none was given (the session makes one).</summary>
    public static string? Of(ParseResult parsed, Option<string?>? option = null) =>
        parsed.GetValue(option ?? Id) is not { } id ? null
        : ClientIds.Validate(id, "--id") is null ? id
        : throw new UsageException($"--id must be 1 to {ClientIds.MaxLength} {ClientIds.Characters}, not '{TextEcho.OneLine(id)}'");
}
