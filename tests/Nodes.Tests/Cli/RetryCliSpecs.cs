using System.Diagnostics;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// Retrying safely from a script: `--id` makes a deposit sent twice apply once, and a cluster that goes silent mid-call
/// (its node paused with kill -STOP) ends the command with exit 4 and kind OutcomeUnknown naming the id to resend.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RetryCliSpecs
{
    [Fact]
    public async Task A_deposit_under_one_id_applies_once_and_a_silent_cluster_ends_outcome_unknown_with_the_id_to_resend()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));
        var port = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"head on port {port}", "start", "--head", "--port", port.ToString(), "--data", data);
        try
        {
            var bank = new BankCommands(head.Address);
            await bank.OkAsync("open", "payee", "--balance", "10");

            var first = await bank.JsonAsync("deposit", "payee", "5", "--id", "pay-1");
            var again = await bank.JsonAsync("deposit", "payee", "5", "--id", "pay-1");

            Assert.Equal((15m, 15m), (first["balance"]!.GetValue<decimal>(), again["balance"]!.GetValue<decimal>()));
            Assert.Single((await bank.JsonAsync("history", "payee"))["events"]!.AsArray(), e => (string?)e!["type"] == "deposited");

            Signal("STOP", head.Pid);
            BankProcess.Result silent;
            try
            {
                silent = await bank.RunWithinAsync(TimeSpan.FromSeconds(120), "deposit", "payee", "5", "--id", "pay-2", "--json");
            }
            finally
            {
                Signal("CONT", head.Pid);
            }

            var (kind, message) = BankCommands.AssertJsonError(silent, 4, "a deposit to a paused node may have been applied");
            Assert.Equal("OutcomeUnknown", kind);
            Assert.Contains("--id pay-2", message);
            // Resent under its id once the node is back: applied once however many times it went.
            Assert.Equal(20m, (await bank.JsonAsync("deposit", "payee", "5", "--id", "pay-2"))["balance"]!.GetValue<decimal>());
            Assert.Equal(20m, (await bank.JsonAsync("balance", "payee"))["balance"]!.GetValue<decimal>());
            await head.StopAsync();
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
