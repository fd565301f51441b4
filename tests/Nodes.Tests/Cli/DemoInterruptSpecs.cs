using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>SIGTERM (a service manager stopping `bank`, or `kill`) ends the demo cleanly: the node leaves, exit 130.</summary>
public sealed class DemoInterruptSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task SIGTERM_during_the_demo_ends_it_with_exit_130_and_one_line_saying_the_node_left_the_cluster()
    {
        await using var demo = BankProcess.Start("demo", "--data", _data);
        await demo.WaitForLineAsync("INFO :: Current Balance: 99.0", Timeout);

        await demo.TerminateAsync();
        var result = await demo.WaitForExitAsync(TimeSpan.FromSeconds(20));

        if (result.ExitCode == ExitCodes.Ok)
        {
            // The demo finished before the signal arrived: then it must have finished completely.
            DemoTranscript.AssertComplete(result, "signalled too late", _data);
            return;
        }

        Assert.True(result.ExitCode == ExitCodes.Interrupted, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.True(result.ErrorLines.SequenceEqual(["error: interrupted; the node left the cluster"]), $"stderr was:\n{result.Stderr}");
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("Demo finished", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
