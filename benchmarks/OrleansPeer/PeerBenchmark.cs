using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bank.Benchmarks.OrleansPeer;

/// <summary>
/// The peer benchmark: `bank bench`'s workload on an in-process Orleans silo; one result line (or --json) on stdout in
/// the shape of `bank bench`'s, the silo's warnings on stderr. Exit codes as bank's: 0 ok, 1 a balance came out wrong,
/// 2 usage, 130 interrupted.
/// </summary>
public static class PeerBenchmark
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken stopping)
    {
        PeerOptions options;
        try
        {
            options = PeerOptions.Parse(args);
        }
        catch (PeerUsageException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return 2;
        }

        try
        {
            await using var silo = await OrleansPeerSilo.StartAsync(stderr, stopping);
            var result = await new PeerRun(options, name => silo.Grains.GetGrain<IAccountGrain>(name)).ExecuteAsync(stopping);
            await stdout.WriteLineAsync(options.Json ? Json(result, options) : Line(result, options));
            return result.Verified ? 0 : 1;
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("interrupted");
            return 130;
        }
    }

    private static double PeakWorkingSetMb => Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);

    private static string Line(PeerResult result, PeerOptions options) => string.Create(CultureInfo.InvariantCulture,
        $"orleans-peer: {options.Total} deposits over {options.Accounts} accounts by {options.Concurrency} callers, " +
        $"in-process Orleans {OrleansPeerSilo.Version} silo, memory grain storage: " +
        $"{result.OpsPerSecond:0} ops/s, p50 {result.Percentile(0.50):0.0} ms, p95 {result.Percentile(0.95):0.0} ms, " +
        $"p99 {result.Percentile(0.99):0.0} ms, peak working set {PeakWorkingSetMb:0} MB, verified={(result.Verified ? "true" : "false")}; " +
        $"GC while it ran: {result.Gen0}/{result.Gen1}/{result.Gen2} collections (gen0/1/2), paused {result.PausedMs:0} ms, " +
        $"{result.AllocatedBytes / (1024.0 * 1024):0} MB allocated, {result.AllocatedBytes / (double)options.Total:0} bytes per deposit " +
        $"(this process: silo and callers); activated {result.ActivationsPerSecond:0} grains/s " +
        $"(with all active: working set {result.WorkingSetAfterActivations / (1024.0 * 1024):0} MB)");

    private static string Json(PeerResult result, PeerOptions options) => new JsonObject
    {
        ["system"] = "orleans",
        ["orleans_version"] = OrleansPeerSilo.Version,
        ["ops_per_s"] = Math.Round(result.OpsPerSecond, 1),
        ["p50_ms"] = Math.Round(result.Percentile(0.50), 2),
        ["p95_ms"] = Math.Round(result.Percentile(0.95), 2),
        ["p99_ms"] = Math.Round(result.Percentile(0.99), 2),
        ["peak_working_set_mb"] = Math.Round(PeakWorkingSetMb, 1),
        ["verified"] = result.Verified,
        ["accounts"] = options.Accounts,
        ["ops"] = options.Total,
        ["concurrency"] = options.Concurrency,
        ["warmup_s"] = options.WarmupSeconds,
        ["journal"] = "orleans-memory",
        ["gc_gen0"] = result.Gen0,
        ["gc_gen1"] = result.Gen1,
        ["gc_gen2"] = result.Gen2,
        ["gc_paused_ms"] = Math.Round(result.PausedMs, 1),
        ["allocated_mb"] = Math.Round(result.AllocatedBytes / (1024.0 * 1024), 1),
        ["allocated_bytes_per_op"] = Math.Round(result.AllocatedBytes / (double)options.Total, 0),
        ["allocated_in"] = "process",
        ["opens_per_s"] = Math.Round(result.ActivationsPerSecond, 1),
        ["working_set_after_opens_mb"] = Math.Round(result.WorkingSetAfterActivations / (1024.0 * 1024), 1),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
