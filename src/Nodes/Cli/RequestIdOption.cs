using System.CommandLine;
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

    /// <summary>The id given, checked before anything connects; null when none was given (the session makes one).</summary>
    public static string? Of(ParseResult parsed, Option<string?>? option = null) =>
        parsed.GetValue(option ?? Id) is not { } id ? null
        : ClientIds.Validate(id, "--id") is null ? id
        : throw new UsageException($"--id must be 1 to {ClientIds.MaxLength} {ClientIds.Characters}, not '{TextEcho.OneLine(id)}'");
}
