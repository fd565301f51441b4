using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>`bank bench`: a short run prints one JSON summary and checks every balance; bad counts are usage errors.</summary>
public sealed class BenchCliSpecs
{
    [Fact]
    public async Task A_short_run_reports_its_figures_and_verifies_every_balance()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var code = await BankCli.RunAsync(["bench", "--accounts", "4", "--ops", "5", "--concurrency", "3", "--warmup", "1", "--data", data, "--json"],
                output, new StringWriter());

            Assert.Equal(ExitCodes.Ok, code);
            var summary = JsonNode.Parse(output.ToString())!.AsObject();
            Assert.True((bool)summary["verified"]!);
            Assert.Equal(20, (int)summary["ops"]!);
            Assert.True((double)summary["ops_per_s"]! > 0);
            Assert.True((double)summary["p50_ms"]! <= (double)summary["p99_ms"]!);
            Assert.True((double)summary["peak_working_set_mb"]! > 0);
            Assert.NotNull(summary["store_caught_up_ms"]);
            // What the process's collector did while the deposits ran: at least the deposits' own allocations.
            Assert.True((double)summary["allocated_mb"]! > 0);
            // Per deposit too, counted in this one process (the embedded node and its callers).
            Assert.Equal(Math.Round((double)summary["allocated_mb"]! * 1024 * 1024 / 20, 0), (double)summary["allocated_bytes_per_op"]!, tolerance: 0.1 * 1024 * 1024 / 20);
            Assert.Equal("process", (string?)summary["allocated_in"]);
            Assert.True((int)summary["gc_gen0"]! >= (int)summary["gc_gen1"]! && (int)summary["gc_gen1"]! >= (int)summary["gc_gen2"]!);
            // The opens and kills are timed too, and the warm-up's deposits are in the balances that were verified.
            Assert.Equal(1.0, (double)summary["warmup_s"]!);
            Assert.True((double)summary["opens_per_s"]! > 0 && (double)summary["kills_per_s"]! > 0);
            Assert.True((double)summary["working_set_after_opens_mb"]! > 0);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_recovery_run_reports_its_recoveries_and_the_stages_of_one_without_a_snapshot()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var code = await BankCli.RunAsync(["bench", "--recovery", "2500", "--data", data, "--json"], output, new StringWriter());

            Assert.Equal(ExitCodes.Ok, code);
            var summary = JsonNode.Parse(output.ToString())!.AsObject();
            Assert.Equal((2500, 2401, 99), ((int)summary["events"]!, (int)summary["snapshot_at"]!, (int)summary["replayed_after_snapshot"]!));
            Assert.Equal(5, summary["with_snapshot_ms"]!.AsArray().Count);
            Assert.Equal(3, summary["without_snapshot_ms"]!.AsArray().Count);
            // Each delivery into the counting actor is checked to bring every event; each stage took some time.
            var stages = summary["stages_ms"]!.AsObject();
            Assert.All(["read", "deserialize", "deliver", "journal_replay", "apply", "apply_one_by_one"], stage => Assert.True((double)stages[stage]! >= 0));
            Assert.True((double)stages["journal_replay"]! > 0);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_running_cluster_keeps_its_own_journal_and_store()
    {
        var error = new StringWriter();
        var code = await BankCli.RunAsync(["bench", "--address", "127.0.0.1:1", "--state-store", "off"], new StringWriter(), error);

        Assert.Equal((ExitCodes.Usage, "error: --address benches a running cluster, which has its own journal and state store: " +
            "leave out --journal, --data, --connection and --state-store"), (code, error.ToString().Trim()));
    }

    [Fact]
    public async Task An_offered_rate_is_reported_with_the_run()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var code = await BankCli.RunAsync(["bench", "--accounts", "3", "--ops", "4", "--rate", "200", "--warmup", "0", "--state-store", "off", "--data", data, "--json"],
                output, new StringWriter());

            Assert.Equal(ExitCodes.Ok, code);
            var summary = JsonNode.Parse(output.ToString())!.AsObject();
            Assert.Equal((200, true, "off"), ((int)summary["rate"]!, (bool)summary["verified"]!, (string?)summary["state_store"]));
            Assert.Null(summary["store_caught_up_ms"]);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_long_phase_reports_its_progress_on_stderr_while_it_runs()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            // 100 deposits offered at 50 a second: about two seconds, ten times the interval, so that a stall of the
            // machine under load (a CI run saw one of 0.8 s, with a one-second phase) still leaves two reports.
            var code = await BankCli.RunAsync(["bench", "--accounts", "2", "--ops", "50", "--rate", "50", "--warmup", "0", "--state-store", "off",
                "--progress", "0.2", "--data", data], output, error);

            Assert.Equal(ExitCodes.Ok, code);
            var progress = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(line => line.StartsWith("bench: deposits:", StringComparison.Ordinal)).ToList();
            Assert.True(progress.Count >= 2, $"progress lines on stderr: {error}");
            Assert.All(progress, line => Assert.Matches(@"^bench: deposits: \d+ of 100 done, \d+/s over the last [\d.]+ s, [\d.]+ s elapsed$", line));
            // stdout keeps the one result line, with the allocation and the actor messages per deposit of this one process.
            var result = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Matches(new Regex(@"MB allocated, \d+ bytes per deposit \(this process: node and callers\), " +
                @"\d+\.\d messages per deposit \(\d+\.\d to the account's actors\);"), result);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_hold_names_the_process_once_every_account_is_open_and_keeps_them_open_before_the_deposits()
    {
        var data = Path.Combine(Path.GetTempPath(), "bank-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            var run = Stopwatch.StartNew();
            var code = await BankCli.RunAsync(["bench", "--accounts", "3", "--ops", "1", "--warmup", "0", "--state-store", "off", "--progress", "0",
                "--hold-open", "1", "--data", data, "--json"], output, error);

            Assert.Equal(ExitCodes.Ok, code);
            // benchmarks/heap-breakdown.sh reads the process id off this line, then takes its heap dump during the hold.
            Assert.Contains($"bench: all 3 accounts open in process {Environment.ProcessId}; holding them 1 s", error.ToString());
            Assert.True(run.Elapsed >= TimeSpan.FromSeconds(1), $"the run took {run.Elapsed}, less than its hold");
            Assert.Equal(3, (int)JsonNode.Parse(output.ToString())!["ops"]!);
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_hold_goes_only_with_an_embedded_run_of_deposits()
    {
        var error = new StringWriter();
        var code = await BankCli.RunAsync(["bench", "--hold-open", "5", "--address", "127.0.0.1:4161"], new StringWriter(), error);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("error: --hold-open holds an embedded node's accounts open for a heap dump: leave out --address, --duration and --recovery",
            error.ToString().Trim());
    }

    [Theory]
    [InlineData("--progress", "soon", "error: --progress must be a number of seconds from 0 to 3600, not 'soon'")]
    [InlineData("--accounts", "0", "error: --accounts must be a whole number from 1 to 10000000, not '0'")]
    [InlineData("--ops", "many", "error: --ops must be a whole number from 1 to 10000000, not 'many'")]
    [InlineData("--state-store", "maybe", "error: --state-store must be on or off, not 'maybe'")]
    [InlineData("--rate", "fast", "error: --rate must be a whole number from 1 to 10000000, not 'fast'")]
    [InlineData("--warmup", "-1", "error: --warmup must be a whole number of seconds from 0 to 600, not '-1'")]
    [InlineData("--hold-open", "0", "error: --hold-open must be a whole number of seconds from 1 to 3600, not '0'")]
    public async Task Bad_options_are_one_line_usage_errors(string option, string value, string message)
    {
        var error = new StringWriter();
        var code = await BankCli.RunAsync(["bench", option, value], new StringWriter(), error);

        Assert.Equal((ExitCodes.Usage, message), (code, error.ToString().Trim()));
    }
}
