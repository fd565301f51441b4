using System.Text.Json.Nodes;
using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>A head started with --allow-fault-injection, which a soak through --address crashes accounts on.</summary>
public sealed class SoakHeadFixture() : HeadProcessFixture("--allow-fault-injection");

/// <summary>
/// `bank bench --duration D` (issue 17 point 9): a soak of deposits, withdrawals and transfers, with injected crashes,
/// that samples memory as it goes and ends by checking the money: conserved in total and right in every account.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SoakCliSpecs(SoakHeadFixture fixture) : IClassFixture<SoakHeadFixture>
{
    /// <summary>The CI version of the 60-minute soak in docs/benchmarks.md: two minutes on PostgreSQL, with chaos.</summary>
    [SkippableFact]
    public async Task Two_minutes_with_chaos_on_PostgreSQL_conserve_the_money_and_verify_every_balance()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var samples = Path.Combine(Path.GetTempPath(), "bank-soak-" + Guid.NewGuid().ToString("N") + ".csv");
        try
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var code = await BankCli.RunAsync(["bench", "--duration", "2m", "--rate", "100", "--accounts", "200", "--chaos",
                "--journal", "postgres", "--connection", database.ConnectionString, "--samples", samples, "--json"], stdout, stderr);

            var summary = JsonNode.Parse(stdout.ToString())!.AsObject();
            Assert.True(code == ExitCodes.Ok, $"exit {code}: {summary}");
            Assert.Equal((true, true, true, 0L), ((bool)summary["passed"]!, (bool)summary["conserved"]!, (bool)summary["balances_verified"]!,
                (long)summary["unresolved"]!));
            Assert.Equal((decimal)summary["money_expected"]!, (decimal)summary["money_found"]!);
            // The offered rate was held (nine in ten at least), and the chaos took effect: crashes injected and accounts restarted.
            Assert.True((long)summary["ops"]! >= 120 * 100 * 9 / 10, $"ops: {summary}");
            Assert.True((long)summary["transfers"]! > 0 && (long)summary["deposits"]! > 0 && (long)summary["withdrawals"]! > 0);
            Assert.True((long)summary["crashes_injected"]! >= 30 && (long)summary["restarts"]! >= 1, $"chaos: {summary}");
            // A sample every 10 s, on stderr as it went and in the file; the slope needs 10 minutes, so none here.
            var lines = stderr.ToString().Split('\n').Count(l => l.StartsWith("soak: ", StringComparison.Ordinal) && l.Contains("working set"));
            Assert.True(lines >= 12, $"{lines} sample lines on stderr");
            var rows = File.ReadAllLines(samples);
            Assert.Equal(MemorySample.CsvHeader, rows[0]);
            Assert.True(rows.Length >= 13 && rows.Skip(1).All(r => r.Split(',').Length == 5), string.Join('\n', rows));
            Assert.Null(summary["working_set_growth_mb_per_h"]);
        }
        finally
        {
            File.Delete(samples);
        }
    }

    /// <summary>The soak's own check: money moved by someone else during the run shows as not conserved and a wrong balance, exit 1.</summary>
    [Fact]
    public async Task Money_moved_behind_its_back_fails_the_soak()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var soak = BankCli.RunAsync(["bench", "--duration", "20s", "--rate", "50", "--accounts", "10", "--chaos",
            "--address", fixture.Head.Address, "--json"], stdout, TextWriter.Synchronized(stderr));

        var list = await fixture.Bank.JsonWhenAsync(l => SoakAccount(l) is not null, "list");
        await fixture.Bank.OkAsync("deposit", SoakAccount(list)!, "1");
        var code = await soak;

        var summary = JsonNode.Parse(stdout.ToString())!.AsObject();
        Assert.True(code == ExitCodes.Failure, $"exit {code}: {summary}");
        Assert.Equal((false, false, false, 1), ((bool)summary["passed"]!, (bool)summary["conserved"]!, (bool)summary["balances_verified"]!,
            (int)summary["mismatched_accounts"]!));
        Assert.Equal(1m, (decimal)summary["money_found"]! - (decimal)summary["money_expected"]!);
        Assert.True((long)summary["crashes_injected"]! >= 5, $"chaos through --address: {summary}");
        Assert.StartsWith("this client process only", (string?)summary["memory_of"]);

        static string? SoakAccount(JsonObject list) =>
            (list["actors"] as JsonArray)?.Select(a => (string?)a!["name"]).FirstOrDefault(n => n?.StartsWith("soak-", StringComparison.Ordinal) == true);
    }

    /// <summary>The real executable: the embedded node's log (its crashes among them) stays off stdout, which holds the one JSON object.</summary>
    [Fact]
    public async Task An_embedded_soak_with_chaos_prints_one_JSON_object_and_its_samples_on_stderr()
    {
        using var data = new TempDataDirectory();
        var result = await BankProcess.RunAsync(TimeSpan.FromMinutes(2),
            "bench", "--duration", "15s", "--rate", "50", "--accounts", "10", "--chaos", "--data", data.Path, "--json");

        Assert.True(result.ExitCode == ExitCodes.Ok, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        var summary = JsonNode.Parse(Assert.Single(result.Lines))!.AsObject();
        Assert.True((bool)summary["passed"]! && (long)summary["restarts"]! >= 1, summary.ToString());
        // A sample about 10 s in, before the last one at the end; the sampler's timer may fire a little early or late.
        Assert.Contains(result.ErrorLines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^soak: 0:00:(0[5-9]|1[0-3]) "));
    }

    [Fact]
    public void Memory_growth_is_the_slope_after_the_first_ten_minutes()
    {
        // 100 MB gained in the first 10 minutes (caches, compiled code), then 30 MB an hour, one sample a minute.
        var samples = Enumerable.Range(0, 61)
            .Select(m => new MemorySample(TimeSpan.FromMinutes(m), m * 1000L, 300, m < 10 ? 100 + 10 * m : 200 + 30 * (m - 10) / 60.0, 50))
            .ToList();

        Assert.Equal(30, MemoryGrowth.SlopeMbPerHour(samples, s => s.WorkingSetMb)!.Value, precision: 6);
        Assert.Equal(0, MemoryGrowth.SlopeMbPerHour(samples, s => s.HeapMb)!.Value, precision: 6);
        Assert.Null(MemoryGrowth.SlopeMbPerHour(samples.Take(12).ToList(), s => s.WorkingSetMb));
        Assert.Equal(TimeSpan.FromMinutes(10), MemoryGrowth.At(samples, MemoryGrowth.SettledAfter)!.Elapsed);
    }

    [Theory]
    [InlineData(new[] { "--duration", "soon" }, "error: --duration must be a whole number of seconds, minutes or hours (90s, 2m, 1h) from 1s to 24h, not 'soon'")]
    [InlineData(new[] { "--duration", "25h" }, "error: --duration must be a whole number of seconds, minutes or hours (90s, 2m, 1h) from 1s to 24h, not '25h'")]
    [InlineData(new[] { "--duration", "0s" }, "error: --duration must be a whole number of seconds, minutes or hours (90s, 2m, 1h) from 1s to 24h, not '0s'")]
    [InlineData(new[] { "--chaos" }, "error: --chaos and --samples go with a soak: add --duration")]
    [InlineData(new[] { "--samples", "s.csv" }, "error: --chaos and --samples go with a soak: add --duration")]
    [InlineData(new[] { "--duration", "1m", "--ops", "5" }, "error: --duration runs a soak at --rate for that long: leave out --ops, --concurrency and --warmup")]
    [InlineData(new[] { "--duration", "1m", "--accounts", "1" }, "error: a soak moves money between accounts: --accounts must be at least 2")]
    [InlineData(new[] { "--duration", "1m", "--recovery", "10" }, "error: --duration runs a soak and --recovery times a recovery: give one of them")]
    public async Task Bad_soak_options_are_one_line_usage_errors(string[] args, string message)
    {
        var error = new StringWriter();
        var code = await BankCli.RunAsync(["bench", .. args], new StringWriter(), error);

        Assert.Equal((ExitCodes.Usage, message), (code, error.ToString().Trim()));
    }
}
