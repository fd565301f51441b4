using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Registry;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank bench`: N accounts, M deposits each, from C concurrent callers, against an embedded one-node cluster; prints
/// throughput, latency percentiles, peak working set, whether every balance came out exact, and how far the state
/// store lagged behind the journal (its persistence workers can be turned off to see what feeding the store costs).
/// </summary>
public sealed class BenchCommand(Output output)
{
    public const string Usage =
        "bank bench [--accounts 1000] [--ops 100] [--concurrency N] [--journal sqlite|postgres] [--data DIR] [--connection STRING] [--state-store on|off] [--json]";

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var parsed = Arguments.Parse(args, ["accounts", "ops", "concurrency", "journal", "data", "connection", "state-store"], []);
        parsed.ExpectPositionals(0, Usage);
        var accounts = Count(parsed, "accounts", 1000);
        var ops = Count(parsed, "ops", 100);
        var concurrency = Count(parsed, "concurrency", accounts);
        var store = parsed.Value("state-store") ?? "on";
        if (store is not ("on" or "off")) throw new UsageException($"--state-store must be on or off, not '{TextEcho.OneLine(store)}'");
        var (persistence, where) = JournalOptions.From(parsed);
        if (persistence.Journal == JournalKind.Postgres) await persistence.EnsureReachableAsync();

        await using var node = await BankHost.StartAsync((builder, _) => builder
            .WithBankNode(new BankNodeOptions { Port = 0, Persistence = persistence })
            .AddHocon($"bank.state-store.enabled = {store}", HoconAddMode.Prepend));
        await using var session = new BankSession(node.Gateway);
        var stopping = node.Stopping;

        var run = Guid.NewGuid().ToString("N")[..8];
        var handles = new ActorInfo[accounts];
        await Parallel.ForEachAsync(Enumerable.Range(0, accounts), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = stopping },
            async (i, ct) => handles[i] = await session.OpenAsync($"bench-{run}-{i}", new AccountOptions(0m, 0m) { Detached = true }, ct));

        var total = (long)accounts * ops;
        var latencies = new double[total];
        var deposited = new long[accounts];
        long next = -1;
        long maxLag = 0;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lagSampler = store == "on" ? SampleLagAsync(session, lag => maxLag = Math.Max(maxLag, lag), sampling.Token) : Task.CompletedTask;

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            long op;
            while ((op = Interlocked.Increment(ref next)) < total)
            {
                var account = (int)(op % accounts);
                var started = Stopwatch.GetTimestamp();
                await session.DepositAsync(handles[account], 1m, stopping);
                latencies[op] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref deposited[account]);
            }
        }));
        var elapsed = clock.Elapsed;

        // The store's catch-up: from the last deposit until it holds everything the journal has.
        double? caughtUpMs = null;
        if (store == "on")
        {
            var head = (await session.StateStoreProgressAsync(stopping)).Head;
            while ((await session.StateStoreProgressAsync(stopping)).Offset < head)
                await Task.Delay(TimeSpan.FromMilliseconds(20), stopping);
            caughtUpMs = clock.Elapsed.TotalMilliseconds - elapsed.TotalMilliseconds;
        }

        await sampling.CancelAsync();
        await lagSampler;

        var verified = true;
        foreach (var (handle, i) in handles.Select((h, i) => (h, i)))
            verified &= await session.BalanceAsync(handle, stopping) == deposited[i];
        foreach (var handle in handles) await session.KillAsync(handle.Name, stopping);

        Array.Sort(latencies);
        var opsPerSecond = total / elapsed.TotalSeconds;
        var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
        if (output.Json)
        {
            output.Object(new JsonObject
            {
                ["ops_per_s"] = Math.Round(opsPerSecond, 1),
                ["p50_ms"] = Math.Round(Percentile(latencies, 0.50), 2),
                ["p95_ms"] = Math.Round(Percentile(latencies, 0.95), 2),
                ["p99_ms"] = Math.Round(Percentile(latencies, 0.99), 2),
                ["peak_working_set_mb"] = Math.Round(peakMb, 1),
                ["verified"] = verified,
                ["accounts"] = accounts,
                ["ops"] = total,
                ["concurrency"] = concurrency,
                ["journal"] = persistence.Journal.ToString().ToLowerInvariant(),
                ["state_store"] = store,
                ["store_max_lag_events"] = store == "on" ? maxLag : null,
                ["store_caught_up_ms"] = caughtUpMs is { } ms ? Math.Round(ms, 0) : null,
            });
        }
        else
        {
            var storeLine = caughtUpMs is { } ms
                ? $"; state store: lagged at most {maxLag} event(s), caught up {ms:0} ms after the last deposit"
                : "; state store off";
            output.Line(string.Create(CultureInfo.InvariantCulture,
                $"bench: {total} deposits over {accounts} accounts by {concurrency} callers, embedded node, journal {where}: " +
                $"{opsPerSecond:0} ops/s, p50 {Percentile(latencies, 0.50):0.0} ms, p95 {Percentile(latencies, 0.95):0.0} ms, " +
                $"p99 {Percentile(latencies, 0.99):0.0} ms, peak working set {peakMb:0} MB, verified={(verified ? "true" : "false")}{storeLine}"));
        }

        return verified ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>The store's lag (journal events not yet in it), every 200 ms while the load runs.</summary>
    private static async Task SampleLagAsync(BankSession session, Action<long> sample, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var progress = await session.StateStoreProgressAsync(cancellationToken);
                sample(Math.Max(0, progress.Head - progress.Offset));
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static int Count(Arguments parsed, string option, int fallback)
    {
        if (parsed.Value(option) is not { } text) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 10_000_000
            ? count
            : throw new UsageException($"--{option} must be a whole number from 1 to 10000000, not '{TextEcho.OneLine(text)}'");
    }
}
