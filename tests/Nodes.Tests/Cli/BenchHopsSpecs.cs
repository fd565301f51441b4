using System.Text.Json.Nodes;
using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// `bank bench` counts the actor messages one deposit costs on its embedded node: at least the three hops the design
/// has between the shard and the account, and no more than the design explains.
/// </summary>
[Collection(CountedTrafficCollection.Name)]
public sealed class BenchHopsSpecs
{
    [Fact]
    public async Task A_deposit_costs_the_hops_the_design_has_between_the_shard_and_the_account_and_no_more()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var code = await BankCli.RunAsync(["bench", "--accounts", "20", "--ops", "5", "--warmup", "0", "--state-store", "off", "--data", data, "--json"],
                output, new StringWriter());

            Assert.Equal(ExitCodes.Ok, code);
            var summary = JsonNode.Parse(output.ToString())!.AsObject();
            var (all, account) = ((double)summary["hops_per_op"]!, (double)summary["account_hops_per_op"]!);
            Assert.Equal("process", (string?)summary["hops_in"]);
            // The call goes entity -> BackoffSupervisor -> account: three messages to the account's actors at least.
            // By design six: those three, the journal's two replies to the account (the event written, then the batch)
            // and the account's answer to the entity (measured: 6.0). One caller per account, so no account batches
            // two deposits into one write, and a snapshot (every 100 events; 5 here) falls outside. The bound leaves
            // 0.2 for messages the deposits did not cause; a seventh hop per deposit would read 7.0.
            Assert.InRange(account, 3.0, MaxAccountHops);
            // Every other actor on the node counts too: the shard region, the shard and the journal at least.
            Assert.True(all >= account + 3, $"{all} messages per deposit in all, {account} of them to the account's actors");
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Asked_for_it_the_bench_names_the_types_its_deposits_allocate_most_on_stderr()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (output, errors) = (new StringWriter(), new StringWriter());
            // 1,000 deposits allocate megabytes: the runtime samples every ~100 KB a thread allocates.
            var code = await BankCli.RunAsync(["bench", "--accounts", "20", "--ops", "50", "--warmup", "0", "--state-store", "off", "--data", data,
                "--progress", "0", "--allocations", "5", "--json"], output, errors);

            Assert.Equal(ExitCodes.Ok, code);
            Assert.NotNull(JsonNode.Parse(output.ToString()));
            var lines = errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var shares = lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^bench: allocated +(\d+\.\d) % (\S.*)$")).ToList();
            Assert.All(shares, m => Assert.True(m.Success, $"not an allocation line: {m.Value}"));
            Assert.InRange(shares.Count, 1, 5);
            Assert.InRange(shares.Sum(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)), 0.1, 100.05);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    private const double MaxAccountHops = 6.2;
}
