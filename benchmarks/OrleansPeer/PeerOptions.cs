using System.Globalization;

namespace Bank.Benchmarks.OrleansPeer;

/// <summary>A usage error: one line on stderr and exit code 2, as bank's CLI does.</summary>
public sealed class PeerUsageException(string message) : Exception(message);

/// <summary>
/// The workload, with `bank bench`'s meaning and defaults: N accounts, M deposits of 1 each, C concurrent callers
/// (one per account unless told), a warm-up of W seconds of deposits that are not measured.
/// </summary>
public sealed record PeerOptions(int Accounts, int Ops, int Concurrency, int WarmupSeconds, bool Json)
{
    public const string Usage =
        "usage: orleans-peer [--accounts N] [--ops N] [--concurrency N] [--warmup SECONDS] [--json]";

    public long Total => (long)Accounts * Ops;

    public static PeerOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var json = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--json":
                    json = true;
                    break;
                case "--accounts" or "--ops" or "--concurrency" or "--warmup" when i + 1 < args.Count:
                    values[args[i]] = args[++i];
                    break;
                case "--accounts" or "--ops" or "--concurrency" or "--warmup":
                    throw new PeerUsageException($"{args[i]} needs a value");
                default:
                    throw new PeerUsageException($"unknown argument '{OneLine(args[i])}'; {Usage}");
            }
        }

        var accounts = Count(values, "--accounts", 1000, 1);
        return new PeerOptions(accounts, Count(values, "--ops", 100, 1), Count(values, "--concurrency", accounts, 1),
            Count(values, "--warmup", 3, 0, 600), json);
    }

    private static int Count(Dictionary<string, string> values, string name, int fallback, int min, int max = 10_000_000)
    {
        if (!values.TryGetValue(name, out var text)) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= min && count <= max
            ? count
            : throw new PeerUsageException($"{name} must be a whole number from {min} to {max}, not '{OneLine(text)}'");
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
