using System.CommandLine;
using Bank.Domain;

namespace Bank.Nodes.Cli;

/// <summary>
/// `--limit N` and `--after` of the listings (`bank list`, `bank history`, `bank shards --entities`): without --limit
/// every page is read and printed; with it at most N entries, and when more remain the --after that continues.
/// </summary>
public static class PageOptions
{
    public const int MaxLimit = 1_000_000;

    public static readonly Option<string?> Limit = new("--limit")
    {
        HelpName = "N", Description = $"Print at most N entries (1 to {MaxLimit}), then the --after that continues when more remain.",
    };

    public static readonly Option<string?> AfterName = new("--after") { HelpName = "NAME", Description = "Start after the actors of this name." };

    public static readonly Option<string?> AfterId = new("--after-id")
    {
        HelpName = "ID", Description = "With --after: continue inside that name, after this incarnation (printed when one name fills a page).",
    };

    public static readonly Option<string?> AfterSeq = new("--after") { HelpName = "SEQ", Description = "Start after this sequence number." };

    public static readonly Option<string?> AfterEntity = new("--after") { HelpName = "ID", Description = "Start after this entity id (with --entities)." };

    /// <summary>The asked --limit, or null to read every page; a usage error (exit 2) when not a whole number from 1.</summary>
    public static int? LimitOf(ParseResult parsed) =>
        parsed.GetValue(Limit) is not { } text ? null
        : int.TryParse(text, out var n) && n is >= 1 and <= MaxLimit ? n
        : throw new UsageException($"--limit must be a whole number from 1 to {MaxLimit}, not '{TextEcho.OneLine(text)}'");

    /// <summary>The asked history --after, 0 when none; a usage error when not a whole number from 0.</summary>
    public static long SeqOf(ParseResult parsed) =>
        parsed.GetValue(AfterSeq) is not { } text ? 0
        : long.TryParse(text, out var n) && n >= 0 ? n
        : throw new UsageException($"--after must be a sequence number (a whole number from 0), not '{TextEcho.OneLine(text)}'");

    /// <summary>How many to ask for in the next page: a full page without a limit, else what is left of it.</summary>
    public static int NextAsk(int? limit, int printed) => limit is { } n ? Math.Min(n - printed, Hosting.Contracts.Pages.MaxEntries) : 0;

    /// <summary>The last line of a listing cut by --limit: how to go on.</summary>
    public static string MoreLine(string after, string? afterId = null) =>
        $"more: --after {Quoted(after)}" + (afterId is null ? "" : $" --after-id {afterId}");

    /// <summary>A value as a shell word: as it is when plain, else in single quotes.</summary>
    private static string Quoted(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '~' or '/')
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";
}
