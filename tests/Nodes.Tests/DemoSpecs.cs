using Xunit;
using System.Text.RegularExpressions;

namespace Bank.Nodes.Tests;

/// <summary>`bank demo` as a new user runs it: a real process, twice on the same data folder.</summary>
public sealed partial class DemoSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The lines DESIGN.md section 4 promises, in order; ids are matched by shape.</summary>
    private static readonly string[] Expected =
    [
        "INFO :: Current Balance: 99.0",
        "INFO :: Balance after Withdraw: 33.0",
        "INFO :: Balance after Deposit: 66.0",
        "INFO :: Balance after Deposit: 99.0",
        "INFO :: Actor(Account, *)",
        "INFO :: Actor killed",
        "INFO :: ray.get_actor('Account') failed: no actor named 'Account'",
        "INFO :: Current balance 99.0",
        "INFO :: New balance 66.0",
        "INFO :: Actor(Account, *)",
        "INFO :: Account actor killed",
        "INFO :: Current balance 66.0",
        "INFO :: Actor(Account, *)",
    ];

    [Fact]
    public async Task Demo_prints_every_line_of_the_chapter_in_order_and_does_so_again_on_the_same_data()
    {
        foreach (var run in new[] { "first", "second" })
        {
            var result = await BankProcess.RunAsync(Timeout, "demo", "--data", _data);

            Assert.True(result.ExitCode == 0, $"{run} run exited {result.ExitCode}: {result.Stderr}");
            Assert.True(result.Stderr.Length == 0, $"{run} run wrote to stderr (warnings or errors): {result.Stderr}");
            var infoLines = result.Lines.Where(l => l.StartsWith("INFO ::", StringComparison.Ordinal)).ToArray();
            Assert.Equal(Expected.Length, infoLines.Length);
            for (var i = 0; i < Expected.Length; i++)
                Assert.Matches("^" + Regex.Escape(Expected[i]).Replace(@"\*", "[0-9a-f]{32}") + "$", infoLines[i]);
        }

        Assert.True(File.Exists(Path.Combine(_data, "bank.db")));
    }

    [Fact]
    public async Task Demo_persistence_walkthrough_shows_two_different_actor_ids_for_one_account()
    {
        var result = await BankProcess.RunAsync(Timeout, "demo", "--data", _data);

        Assert.Equal(0, result.ExitCode);
        var ids = result.Lines.Select(l => ActorId().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(3, ids.Length);
        Assert.NotEqual(ids[1], ids[2]);
    }

    [GeneratedRegex(@"^INFO :: Actor\(Account, ([0-9a-f]{32})\)$")]
    private static partial Regex ActorId();

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
