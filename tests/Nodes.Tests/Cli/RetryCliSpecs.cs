using System.Diagnostics;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// Retrying safely from a script: `--id` makes a deposit, withdrawal, open or kill sent twice apply once; a cluster that
/// goes silent mid-call (its node paused with kill -STOP) ends the command with exit 4 and kind OutcomeUnknown naming the
/// id and the first send to resend with; and a resend older than the retention of an id the account forgot is refused.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RetryCliSpecs
{
    [Fact]
    public async Task A_deposit_under_one_id_applies_once_and_a_silent_cluster_ends_outcome_unknown_with_the_id_to_resend()
    {
        await OnAHeadAsync(async (head, bank) =>
        {
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

            var error = BankCommands.AssertJsonErrorObject(silent, 4, "a deposit to a paused node may have been applied");
            Assert.Equal("OutcomeUnknown", (string?)error["kind"]);
            Assert.Equal("pay-2", (string?)error["request_id"]);
            var firstSent = (string)error["first_sent"]!;
            Assert.Contains($"--id pay-2 --first-sent {firstSent}", (string?)error["message"]);
            // Resent as the error says once the node is back: applied once however many times it went.
            Assert.Equal(20m, (await bank.JsonAsync("deposit", "payee", "5", "--id", "pay-2", "--first-sent", firstSent))["balance"]!.GetValue<decimal>());
            Assert.Equal(20m, (await bank.JsonAsync("balance", "payee"))["balance"]!.GetValue<decimal>());
        });
    }

    [Fact]
    public async Task Every_changing_command_applies_once_under_one_id_and_a_resend_older_than_the_retention_of_a_forgotten_id_is_refused()
    {
        await OnAHeadAsync(async (head, bank) =>
        {
            var opened = await bank.JsonAsync("open", "payer", "--balance", "100", "--id", "open-1");
            // The same open resent: the same actor, not AlreadyExists, and not a second one.
            Assert.Equal((string?)opened["id"], (string?)(await bank.JsonAsync("open", "payer", "--balance", "100", "--id", "open-1"))["id"]);

            Assert.Equal(70m, (await bank.JsonAsync("withdraw", "payer", "30", "--id", "take-1"))["balance"]!.GetValue<decimal>());
            Assert.Equal(70m, (await bank.JsonAsync("withdraw", "payer", "30", "--id", "take-1"))["balance"]!.GetValue<decimal>());

            // An id first sent longer ago than the retention (10 min) that the account does not remember may be one it
            // forgot: refused, exit 4, nothing applied. One it remembers is answered, however old.
            var longAgo = DateTime.UtcNow.AddMinutes(-11).ToString("yyyy-MM-ddTHH:mm:ssZ");
            var refused = BankCommands.AssertJsonErrorObject(
                await bank.RunAsync("deposit", "payer", "5", "--id", "lost-1", "--first-sent", longAgo, "--json"), 4, "a resend of a possibly forgotten id");
            Assert.Equal("OutcomeUnknown", (string?)refused["kind"]);
            Assert.Contains("may have forgotten", (string?)refused["message"]);
            Assert.Equal(70m, (await bank.JsonAsync("withdraw", "payer", "30", "--id", "take-1", "--first-sent", longAgo))["balance"]!.GetValue<decimal>());
            Assert.Equal(70m, (await bank.JsonAsync("balance", "payer"))["balance"]!.GetValue<decimal>());

            Assert.Equal("Usage", BankCommands.AssertJsonError(
                await bank.RunAsync("deposit", "payer", "5", "--first-sent", longAgo, "--json"), 2, "--first-sent without --id").Kind);
            Assert.Equal("Usage", BankCommands.AssertJsonError(
                await bank.RunAsync("deposit", "payer", "5", "--id", "x-1", "--first-sent", "yesterday", "--json"), 2, "a --first-sent that is no time").Kind);

            var events = (await bank.JsonAsync("history", "payer"))["events"]!.AsArray();
            Assert.Single(events, e => (string?)e!["type"] == "withdrawn");
            Assert.DoesNotContain(events, e => (string?)e!["type"] == "deposited");

            var killed = await bank.JsonAsync("kill", "payer", "--id", "kill-1");
            // The same kill resent is answered as the first was, not "no such actor".
            Assert.Equal((string?)killed["id"], (string?)(await bank.JsonAsync("kill", "payer", "--id", "kill-1"))["id"]);
        });
    }

    /// <summary>A head node of its own on a fresh data folder, stopped and removed after <paramref name="test"/>.</summary>
    private static async Task OnAHeadAsync(Func<BankProcess, BankCommands, Task> test)
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));
        var port = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"head on port {port}", "start", "--head", "--port", port.ToString(), "--data", data);
        try
        {
            await test(head, new BankCommands(head.Address));
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
