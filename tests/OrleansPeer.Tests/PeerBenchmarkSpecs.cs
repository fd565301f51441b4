using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bank.Benchmarks.OrleansPeer;
using Xunit;

namespace Bank.OrleansPeer.Tests;

/// <summary>
/// The Orleans peer benchmark (benchmarks/OrleansPeer): a small run on a real in-process silo prints one result line
/// in `bank bench`'s shape (or its JSON) with every balance verified; a lost deposit fails the run.
/// </summary>
public sealed class PeerBenchmarkSpecs
{
    [Fact]
    public async Task A_small_run_prints_one_result_line_with_every_balance_verified()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = await PeerBenchmark.RunAsync(["--accounts", "10", "--ops", "10", "--warmup", "0"], output, error, CancellationToken.None);

        Assert.Equal(0, code);
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Matches(new Regex(@"^orleans-peer: 100 deposits over 10 accounts by 10 callers, in-process Orleans 10\.4\.\d+ silo, memory grain storage: " +
            @"\d+ ops/s, p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, peak working set \d+ MB, verified=true; " +
            @"GC while it ran: \d+/\d+/\d+ collections \(gen0/1/2\), paused \d+ ms, \d+ MB allocated, \d+ bytes per deposit "), line);
    }

    [Fact]
    public async Task Json_gives_the_figures_under_bank_bench_s_names()
    {
        var output = new StringWriter();
        var code = await PeerBenchmark.RunAsync(["--accounts", "5", "--ops", "4", "--concurrency", "2", "--warmup", "0", "--json"], output,
            new StringWriter(), CancellationToken.None);

        Assert.Equal(0, code);
        var summary = JsonNode.Parse(output.ToString())!.AsObject();
        Assert.Equal(("orleans", true, 20, 2), ((string?)summary["system"], (bool)summary["verified"]!, (int)summary["ops"]!, (int)summary["concurrency"]!));
        Assert.True((double)summary["ops_per_s"]! > 0 && (double)summary["p50_ms"]! <= (double)summary["p99_ms"]!);
        Assert.True((double)summary["allocated_bytes_per_op"]! > 0);
    }

    [Fact]
    public async Task A_lost_deposit_fails_the_check_of_the_balances()
    {
        var options = new PeerOptions(Accounts: 3, Ops: 4, Concurrency: 2, WarmupSeconds: 0, Json: false);
        var grains = new Dictionary<string, LosingAccount>();

        var result = await new PeerRun(options, name => grains.TryGetValue(name, out var grain) ? grain : grains[name] = new LosingAccount())
            .ExecuteAsync(CancellationToken.None);

        Assert.False(result.Verified);
    }

    [Theory]
    [InlineData("--accounts", "0", "error: --accounts must be a whole number from 1 to 10000000, not '0'")]
    [InlineData("--warmup", "601", "error: --warmup must be a whole number from 0 to 600, not '601'")]
    [InlineData("--colour", "red", "error: unknown argument '--colour'; " + PeerOptions.Usage)]
    public async Task Bad_arguments_are_one_line_usage_errors(string name, string value, string message)
    {
        var error = new StringWriter();
        var code = await PeerBenchmark.RunAsync([name, value], new StringWriter(), error, CancellationToken.None);

        Assert.Equal((2, message), (code, error.ToString().Trim()));
    }

    /// <summary>An account that drops its third deposit, as a storage that lost a write would.</summary>
    private sealed class LosingAccount : IAccountGrain
    {
        private readonly Lock gate = new();
        private decimal balance;
        private int deposits;

        public Task<decimal> Deposit(decimal amount)
        {
            lock (gate)
            {
                if (++deposits != 3) balance += amount;
                return Task.FromResult(balance);
            }
        }

        public Task<decimal> Balance()
        {
            lock (gate) return Task.FromResult(balance);
        }
    }
}
