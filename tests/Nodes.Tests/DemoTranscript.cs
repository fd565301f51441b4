using System.Text.RegularExpressions;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>What a complete `bank demo` prints: the lines DESIGN.md section 4 promises, in order.</summary>
public static partial class DemoTranscript
{
    /// <summary>
    /// The INFO lines in order; ids (<c>{id}</c>), the node's address (<c>{node}</c>), and what depends on the machine (its
    /// CPU count <c>{n}</c>, its memory <c>{size}</c>, the rows each persistence worker wrote) are matched by shape.
    /// </summary>
    public static readonly string[] Expected =
    [
        "INFO :: Current Balance: 99.0",
        "INFO :: Balance after Withdraw: 33.0",
        "INFO :: Balance after Deposit: 66.0",
        "INFO :: Balance after Deposit: 99.0",
        "INFO :: Actor(Account, {id})",
        "INFO :: Actor killed",
        "INFO :: ray.get_actor('Account') failed: no actor named 'Account'",
        "INFO :: Current balance 99.0",
        "INFO :: New balance 66.0",
        "INFO :: Actor(Account, {id})",
        "INFO :: Account actor killed",
        "INFO :: Current balance 66.0",
        "INFO :: Actor(Account, {id})",
        "INFO :: Current balance 100.0",
        "INFO :: Injected 3 crashes: the account throws on its next 3 calls",
        "INFO :: Balance after Deposit: 150.0",
        "INFO :: Restarted 3 times of 5; current balance 150.0",
        "INFO :: Opened Pool1 to Pool6 with 10.0 to 60.0: 210.0 in all",
        "INFO :: pool.map(lambda a, v: a.deposit.remote(v), [5.0] * 6): balances 240.0 in all; the state store caught up",
        "INFO :: pool.map(lambda a, v: a.deposit.remote(v), [5.0] * 6): balances 270.0 in all; the state store caught up",
        "INFO :: pool.map(lambda a, v: a.deposit.remote(v), [5.0] * 6): balances 300.0 in all; the state store caught up",
        "INFO :: Persistence worker 1 wrote {n} row(s)",
        "INFO :: Persistence worker 2 wrote {n} row(s)",
        "INFO :: Persistence worker 3 wrote {n} row(s)",
        "INFO :: Balances in the state store: Pool1 25.0, Pool2 35.0, Pool3 45.0, Pool4 55.0, Pool5 65.0, Pool6 75.0",
        "INFO :: Actor(Account, {id}) holds num_cpus=1, num_gpus=4, memory=500MiB",
        "INFO :: State ALIVE on node {node}",
        "INFO :: Node usage: 4/4 GPU, 1/{n} CPU, 500MiB/{size} memory",
        "INFO :: Account2 asks for the same: PENDING_CREATION (no node has 4 GPUs free)",
        "INFO :: Actor killed",
        "INFO :: Account2 ALIVE on node {node}: the GPUs went to it",
        "INFO :: Resources released: 0/4 GPU, 0/{n} CPU, 0B/{size} memory",
    ];

    /// <summary>
    /// The run succeeded, wrote nothing to stderr, printed every INFO line in order (the vertical-scaling account holds
    /// all 4 GPUs of the demo's node, and after the kill none is used), and its persistence walkthrough shows two
    /// different actor ids for the one account it killed and reopened. In the pool walkthrough every one of the three
    /// persistence workers wrote rows (its three rounds are three batches at least, and round robin hands consecutive
    /// batches to different workers), and together at least the 18 rows of its 18 deposits (6 accounts, 3 rounds; the
    /// rows of its opens and of other actors may come on top, and how they spread varies from run to run).
    /// </summary>
    public static void AssertComplete(BankProcess.Result result, string run)
    {
        Assert.True(result.ExitCode == 0, $"{run} run exited {result.ExitCode}: {result.Stderr}");
        Assert.True(result.Stderr.Length == 0, $"{run} run wrote to stderr (warnings or errors): {result.Stderr}");
        var infoLines = result.Lines.Where(l => l.StartsWith("INFO ::", StringComparison.Ordinal)).ToArray();
        Assert.True(Expected.Length == infoLines.Length, $"{run} run printed:\n{result.Stdout}");
        for (var i = 0; i < Expected.Length; i++)
            Assert.Matches(Pattern(Expected[i]), infoLines[i]);

        var rows = result.Lines.Select(l => WorkerRows().Match(l)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.True(rows.All(r => r >= 1) && rows.Sum() >= 18, $"{run} run: the persistence workers wrote {string.Join(", ", rows)} row(s)");

        var ids = result.Lines.Select(l => ActorId().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(3, ids.Length);
        Assert.NotEqual(ids[1], ids[2]);
    }

    private static string Pattern(string expected) =>
        "^" + Regex.Escape(expected)
            .Replace(@"\{id}", "[0-9a-f]{32}")
            .Replace(@"\{node}", @"akka\.tcp://bank@[^ :]+:[0-9]+")
            .Replace(@"\{n}", "[0-9]+")
            .Replace(@"\{size}", @"[0-9]+(\.[0-9])?(B|KiB|MiB|GiB|TiB|PiB)") + "$";

    [GeneratedRegex(@"^INFO :: Actor\(Account, ([0-9a-f]{32})\)$")]
    private static partial Regex ActorId();

    [GeneratedRegex(@"^INFO :: Persistence worker [1-3] wrote ([0-9]+) row\(s\)$")]
    private static partial Regex WorkerRows();
}
