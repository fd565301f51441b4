using System.Text.RegularExpressions;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// What a complete `bank demo` prints: the transcript in the README, line by line, so that the README and the demo
/// cannot drift apart. What differs from run to run is compared by shape: actor ids, node addresses and ports, the data
/// folder, and what depends on the machine (its CPU count and memory) or on timing (the rows each persistence worker
/// wrote).
/// </summary>
public static partial class DemoTranscript
{
    /// <summary>The data folder the README's transcript shows.</summary>
    public const string ReadmeDataFolder = "/path/to/data";

    /// <summary>The README's fenced block that starts with the demo's first line.</summary>
    public static string[] Readme()
    {
        var readme = Path.Combine(Repository.Root, "README.md");
        var lines = File.ReadAllLines(readme);
        var start = Array.FindIndex(lines, l => l.StartsWith("bank demo: ", StringComparison.Ordinal));
        Assert.True(start > 0 && lines[start - 1].StartsWith("```", StringComparison.Ordinal),
            $"{readme} has no fenced block starting with the demo's first line ('bank demo: ...')");
        var end = Array.FindIndex(lines, start, l => l.StartsWith("```", StringComparison.Ordinal));
        Assert.True(end > start, $"{readme}: the demo's transcript block is not closed");
        return lines[start..end];
    }

    /// <summary>
    /// The run succeeded, wrote nothing to stderr, and printed the README's transcript (a leftover kill line of an
    /// interrupted earlier run aside, checked by its own spec). Its persistence walkthrough shows two different actor
    /// ids for the one account it killed and reopened. In the pool walkthrough every one of the three persistence
    /// workers wrote rows (its three rounds are three batches at least, and round robin hands consecutive batches to
    /// different workers), and together at least the 18 rows of its 18 deposits (6 accounts, 3 rounds; the rows of its
    /// opens and of other actors may come on top, and how they spread varies from run to run).
    /// </summary>
    public static void AssertComplete(BankProcess.Result result, string run, string dataFolder)
    {
        Assert.True(result.ExitCode == 0, $"{run} run exited {result.ExitCode}: {result.Stderr}");
        Assert.True(result.Stderr.Length == 0, $"{run} run wrote to stderr (warnings or errors): {result.Stderr}");

        var printed = result.Stdout.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => !l.StartsWith("# Killed Actor(Account, ", StringComparison.Ordinal))
            .Reverse().SkipWhile(l => l.Length == 0).Reverse().ToArray();
        AssertSameLines(Readme().Select(l => Normalise(l, ReadmeDataFolder)).ToArray(),
            printed.Select(l => Normalise(l, dataFolder)).ToArray(), run);

        var rows = printed.Select(l => WorkerRows().Match(l)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.True(rows.All(r => r >= 1) && rows.Sum() >= 18, $"{run} run: the persistence workers wrote {string.Join(", ", rows)} row(s)");

        var ids = printed.Select(l => ActorId().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(3, ids.Length);
        Assert.NotEqual(ids[1], ids[2]);
    }

    /// <summary>A line with what varies between runs and machines replaced by a placeholder of its kind.</summary>
    public static string Normalise(string line, string dataFolder)
    {
        // The folder first: a test's data folder may itself hold a 32-hex name.
        var normal = line.Replace(dataFolder, "{data}", StringComparison.Ordinal);
        normal = Id().Replace(normal, "{id}");
        normal = Node().Replace(normal, "{node}");
        normal = WorkerRowCount().Replace(normal, "${head}{n}");
        normal = CpuTotal().Replace(normal, "/{n} CPU");
        return MemoryTotal().Replace(normal, "/{size} memory");
    }

    private static void AssertSameLines(string[] expected, string[] actual, string run)
    {
        for (var i = 0; i < Math.Min(expected.Length, actual.Length); i++)
            Assert.True(expected[i] == actual[i],
                $"{run} run, line {i + 1}: the README says\n  {expected[i]}\nbut the demo printed\n  {actual[i]}\n(ids, addresses, the data folder and machine-dependent figures normalised)");
        Assert.True(expected.Length == actual.Length,
            $"{run} run printed {actual.Length} line(s), the README's transcript has {expected.Length}; the demo printed:\n{string.Join('\n', actual)}");
    }


    [GeneratedRegex("[0-9a-f]{32}")]
    private static partial Regex Id();

    [GeneratedRegex(@"akka\.tcp://bank@[^ :]+:[0-9]+")]
    private static partial Regex Node();

    [GeneratedRegex(@"(?<head>^INFO :: Persistence worker [1-3] wrote )[0-9]+")]
    private static partial Regex WorkerRowCount();

    [GeneratedRegex(@"/[0-9]+ CPU")]
    private static partial Regex CpuTotal();

    [GeneratedRegex(@"/[0-9]+(\.[0-9])?(B|KiB|MiB|GiB|TiB|PiB) memory")]
    private static partial Regex MemoryTotal();

    [GeneratedRegex(@"^INFO :: Actor\(Account, ([0-9a-f]{32})\)$")]
    private static partial Regex ActorId();

    [GeneratedRegex(@"^INFO :: Persistence worker [1-3] wrote ([0-9]+) row\(s\)$")]
    private static partial Regex WorkerRows();
}
