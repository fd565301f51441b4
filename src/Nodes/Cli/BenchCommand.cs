using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank bench`: N accounts, M deposits each, from C concurrent callers, against an embedded one-node cluster or, with
/// --address, a running cluster through ClusterClient from this process; prints throughput, latency percentiles, peak
/// working set, whether every balance came out exact, and how far the state store lagged behind the journal (its
/// persistence workers can be turned off to see what feeding the store costs). With --rate the callers offer a fixed
/// load (open loop) and latency counts from when each deposit was due, so a slow moment is not hidden.
/// </summary>
public sealed class BenchCommand(Output output)
{
    /// <summary>Seconds of deposits before the measured ones, unless --warmup says otherwise.</summary>
    public const int DefaultWarmupSeconds = 3;

    private static readonly Option<string?> Accounts = new("--accounts") { HelpName = "N", Description = "Accounts to open (default 1000)." };

    private static readonly Option<string?> Ops = new("--ops") { HelpName = "N", Description = "Deposits into each account (default 100)." };

    private static readonly Option<string?> Concurrency = new("--concurrency") { HelpName = "N", Description = "Concurrent callers (default: one per account)." };

    private static readonly Option<string?> Rate = new("--rate")
    {
        HelpName = "OPS_PER_S", Description = "Offer a fixed load (open loop); latency counts from when each deposit was due.",
    };

    private static readonly Option<string?> StateStore = new("--state-store")
    {
        HelpName = "on|off", Description = "off: run the embedded node without the state store's persistence workers (default on).",
        CompletionSources = { "on", "off" },
    };

    private static readonly Option<string?> Warmup = new("--warmup")
    {
        HelpName = "SECONDS", Description = $"Seconds of deposits before the measured ones (default {DefaultWarmupSeconds}).",
    };

    private static readonly Option<string?> Recovery = new("--recovery")
    {
        HelpName = "EVENTS", Description = "Instead: time the recovery of an account with EVENTS events, from its snapshot and without.",
    };

    public static Command Create()
    {
        var bench = new Command("bench",
            "N accounts x M deposits on an embedded node, or on a running cluster through ClusterClient with --address: ops/s, " +
            "p50/p95/p99, peak memory, verified balances, and how far the state store lagged.")
        {
            Accounts, Ops, Concurrency, Rate, SharedOptions.Journal, SharedOptions.Data, SharedOptions.Connection, StateStore,
            SharedOptions.ClusterAddress, SharedOptions.Tls, Warmup, Recovery,
        };
        bench.SetAction((parsed, _) => new BenchCommand(BankCli.OutputOf(parsed)).RunAsync(parsed));
        return bench;
    }

    public async Task<int> RunAsync(ParseResult parsed)
    {
        var accounts = PositiveCount(parsed, Accounts, 1000);
        var ops = PositiveCount(parsed, Ops, 100);
        var concurrency = PositiveCount(parsed, Concurrency, accounts);
        int? rate = parsed.Has(Rate) ? PositiveCount(parsed, Rate, 0) : null;
        var warmup = WarmupSeconds(parsed);
        var remote = parsed.Has(SharedOptions.ClusterAddress);
        if (remote && (parsed.Has(SharedOptions.Journal) || parsed.Has(SharedOptions.Data) || parsed.Has(SharedOptions.Connection) || parsed.Has(StateStore)))
            throw new UsageException("--address benches a running cluster, which has its own journal and state store: leave out --journal, --data, --connection and --state-store");
        int? recovery = parsed.Has(Recovery) ? PositiveCount(parsed, Recovery, 0) : null;
        if (recovery is not null && remote)
            throw new UsageException("--recovery measures an embedded node's journal: leave out --address");
        var store = parsed.GetValue(StateStore) ?? "on";
        if (store is not ("on" or "off")) throw new UsageException($"--state-store must be on or off, not '{TextEcho.OneLine(store)}'");

        RunningNode? node = null;
        BankClient? client = null;
        string where;
        string journalKind;
        try
        {
            if (remote)
            {
                client = await TlsOptions.ConnectAsync(parsed);
                where = $"cluster at {string.Join(",", ClientCommands.ContactPoints(parsed))} through {(TlsOptions.Given(parsed) ? "its client door (mutual TLS)" : "ClusterClient")}";
                journalKind = "cluster";
            }
            else
            {
                var (persistence, data) = JournalOptions.From(parsed);
                if (persistence.Journal == JournalKind.Postgres) await persistence.EnsureReachableAsync();
                node = await RunningNode.StartAsync((builder, _) => builder
                    .WithBankNode(new BankNodeOptions { Port = 0, Persistence = persistence })
                    .AddHocon($"bank.state-store.enabled = {store}", HoconAddMode.Prepend));
                where = $"embedded node, journal {data}";
                journalKind = persistence.Journal.ToString().ToLowerInvariant();
            }

            if (recovery is { } events)
            {
                PrintRecovery(await RecoveryBench.RunAsync(node!.System, events, node.Stopping), where);
                return ExitCodes.Ok;
            }

            await using var session = client is not null ? client.OpenSession() : new BankSession(node!.Gateway);
            var stopping = node?.Stopping ?? CancellationToken.None;
            var run = new BenchRun(accounts, ops, concurrency, rate, TimeSpan.FromSeconds(warmup));
            var result = await run.ExecuteAsync(session, sampleStore: remote || store == "on", stopping);
            PrintDeposits(result, run, where, journalKind, remote ? "cluster" : store);
            return result.Verified ? ExitCodes.Ok : ExitCodes.Failure;
        }
        finally
        {
            if (client is not null) await client.DisposeAsync();
            if (node is not null) await node.DisposeAsync();
        }
    }

    private void PrintDeposits(BenchResult result, BenchRun run, string where, string journal, string store)
    {
        var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
        if (output.Json)
        {
            output.PrintJson(new JsonObject
            {
                ["ops_per_s"] = Math.Round(result.OpsPerSecond, 1),
                ["p50_ms"] = Math.Round(result.Percentile(0.50), 2),
                ["p95_ms"] = Math.Round(result.Percentile(0.95), 2),
                ["p99_ms"] = Math.Round(result.Percentile(0.99), 2),
                ["peak_working_set_mb"] = Math.Round(peakMb, 1),
                ["verified"] = result.Verified,
                ["accounts"] = run.Accounts,
                ["ops"] = run.Total,
                ["concurrency"] = run.Concurrency,
                ["rate"] = run.Rate,
                ["warmup_s"] = run.Warmup.TotalSeconds,
                ["journal"] = journal,
                ["state_store"] = store,
                ["store_max_lag_events"] = result.CaughtUpMs is null ? null : result.MaxLag,
                ["store_caught_up_ms"] = result.CaughtUpMs is { } ms ? Math.Round(ms, 0) : null,
                ["gc_gen0"] = result.Gc.Gen0,
                ["gc_gen1"] = result.Gc.Gen1,
                ["gc_gen2"] = result.Gc.Gen2,
                ["gc_paused_ms"] = Math.Round(result.Gc.PausedMs, 1),
                ["allocated_mb"] = Math.Round(result.Gc.AllocatedMb, 1),
                ["opens_per_s"] = Math.Round(result.Opened.PerSecond, 1),
                ["working_set_after_opens_mb"] = Math.Round(result.Opened.WorkingSetMb, 1),
                ["gc_heap_after_opens_mb"] = Math.Round(result.Opened.HeapMb, 1),
                ["gc_committed_after_opens_mb"] = Math.Round(result.Opened.CommittedMb, 1),
                ["kills_per_s"] = Math.Round(result.Killed.PerSecond, 1),
            });
            return;
        }

        var storeLine = result.CaughtUpMs is { } caughtUp
            ? $"; state store: lagged at most {result.MaxLag} event(s), caught up {caughtUp:0} ms after the last deposit"
            : "; state store off";
        var load = run.Rate is { } offered ? $"offered {offered} ops/s by {run.Concurrency} callers" : $"by {run.Concurrency} callers";
        output.Line(string.Create(CultureInfo.InvariantCulture,
            $"bench: {run.Total} deposits over {run.Accounts} accounts {load}, {where}: " +
            $"{result.OpsPerSecond:0} ops/s, p50 {result.Percentile(0.50):0.0} ms, p95 {result.Percentile(0.95):0.0} ms, " +
            $"p99 {result.Percentile(0.99):0.0} ms, peak working set {peakMb:0} MB, verified={(result.Verified ? "true" : "false")}{storeLine}; " +
            $"GC while it ran: {result.Gc.Gen0}/{result.Gc.Gen1}/{result.Gc.Gen2} collections (gen0/1/2), paused {result.Gc.PausedMs:0} ms, " +
            $"{result.Gc.AllocatedMb:0} MB allocated; opened {result.Opened.PerSecond:0} accounts/s " +
            $"(with all open: working set {result.Opened.WorkingSetMb:0} MB, managed heap {result.Opened.HeapMb:0} MB at the last collection, " +
            $"{result.Opened.CommittedMb:0} MB committed by the collector), killed {result.Killed.PerSecond:0}/s"));
    }

    private void PrintRecovery(RecoveryBench.Figures figures, string where)
    {
        static double Median(double[] ms) => ms.Order().ElementAt(ms.Length / 2);
        if (output.Json)
        {
            output.PrintJson(new JsonObject
            {
                ["events"] = figures.Events,
                ["with_snapshot_ms"] = new JsonArray([.. figures.WithSnapshotMs.Select(ms => (JsonNode?)Math.Round(ms, 1))]),
                ["snapshot_at"] = figures.SnapshotAt,
                ["replayed_after_snapshot"] = figures.ReplayedAfterSnapshot,
                ["without_snapshot_ms"] = new JsonArray([.. figures.WithoutSnapshotMs.Select(ms => (JsonNode?)Math.Round(ms, 1))]),
            });
            return;
        }

        output.Line(string.Create(CultureInfo.InvariantCulture,
            $"recovery: an account with {figures.Events} events, {where}: from its snapshot at event {figures.SnapshotAt} " +
            $"(replaying {figures.ReplayedAfterSnapshot}) in {Median(figures.WithSnapshotMs):0.0} ms " +
            $"(median of {figures.WithSnapshotMs.Length}, {figures.WithSnapshotMs.Min():0.0}-{figures.WithSnapshotMs.Max():0.0} ms); " +
            $"without snapshots in {Median(figures.WithoutSnapshotMs):0} ms " +
            $"(median of {figures.WithoutSnapshotMs.Length}, {figures.WithoutSnapshotMs.Min():0}-{figures.WithoutSnapshotMs.Max():0} ms)"));
    }

    /// <summary>How long opening (or killing) the accounts took, and the working set right after.</summary>
    private sealed record PhaseFigures(int Accounts, TimeSpan Elapsed, long WorkingSet, long HeapBytes, long CommittedBytes)
    {
        /// <summary>The phase's figures now: the process's working set, the managed heap and what the collector holds.</summary>
        public static PhaseFigures Now(int accounts, TimeSpan elapsed)
        {
            var gc = GC.GetGCMemoryInfo();
            return new PhaseFigures(accounts, elapsed, Process.GetCurrentProcess().WorkingSet64, gc.HeapSizeBytes, gc.TotalCommittedBytes);
        }

        public double HeapMb => HeapBytes / (1024.0 * 1024);

        public double CommittedMb => CommittedBytes / (1024.0 * 1024);

        public double PerSecond => Accounts / Math.Max(Elapsed.TotalSeconds, 1e-6);

        public double WorkingSetMb => WorkingSet / (1024.0 * 1024);
    }

    private sealed record BenchResult(double OpsPerSecond, double[] SortedLatencies, bool Verified, long MaxLag, double? CaughtUpMs, GcFigures Gc,
        PhaseFigures Opened, PhaseFigures Killed)
    {
        public double Percentile(double p) =>
            SortedLatencies.Length == 0 ? 0 : SortedLatencies[Math.Min(SortedLatencies.Length - 1, (int)Math.Ceiling(p * SortedLatencies.Length) - 1)];
    }

    /// <summary>
    /// This process's garbage collections while the deposits ran: with an embedded node, the node's and the callers'
    /// (one process); through ClusterClient, the client's alone.
    /// </summary>
    private sealed record GcFigures(int Gen0, int Gen1, int Gen2, double PausedMs, double AllocatedMb)
    {
        public static GcFigures Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds, GC.GetTotalAllocatedBytes() / (1024.0 * 1024));

        public GcFigures Since(GcFigures start) =>
            new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, PausedMs - start.PausedMs, AllocatedMb - start.AllocatedMb);
    }

    /// <summary>
    /// One run: open the accounts, warm up (deposits for <paramref name="Warmup"/>, not measured: the runtime compiles
    /// the hot paths again, optimized, in its first seconds), deposit 1 into each M times, check every balance, kill
    /// the accounts.
    /// </summary>
    private sealed record BenchRun(int Accounts, int Ops, int Concurrency, int? Rate, TimeSpan Warmup)
    {
        public long Total => (long)Accounts * Ops;

        public async Task<BenchResult> ExecuteAsync(BankSession session, bool sampleStore, CancellationToken stopping)
        {
            var name = Guid.NewGuid().ToString("N")[..8];
            var handles = new ActorInfo[Accounts];
            var opening = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, Accounts), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping },
                async (i, ct) => handles[i] = await session.OpenAsync($"bench-{name}-{i}", new AccountOptions(0m, 0m) { Detached = true }, ct));
            var opened = PhaseFigures.Now(Accounts, opening.Elapsed);

            var latencies = new double[Total];
            var deposited = new long[Accounts];
            await WarmUpAsync(session, handles, deposited, stopping);
            long next = -1;
            long maxLag = 0;
            using var sampling = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var lagSampler = sampleStore ? SampleLagAsync(session, lag => maxLag = Math.Max(maxLag, lag), sampling.Token) : Task.CompletedTask;

            var gcAtStart = GcFigures.Now();
            var clock = Stopwatch.StartNew();
            var origin = Stopwatch.GetTimestamp();
            var ticksPerOp = Rate is { } rate ? Stopwatch.Frequency / (double)rate : 0;
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
            {
                long op;
                while ((op = Interlocked.Increment(ref next)) < Total)
                {
                    var account = (int)(op % Accounts);
                    long started;
                    if (Rate is null)
                    {
                        started = Stopwatch.GetTimestamp();
                    }
                    else
                    {
                        // Due at its slot in the schedule; a late start counts as latency (no coordinated omission).
                        started = origin + (long)(op * ticksPerOp);
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), started);
                        if (wait > TimeSpan.Zero) await Task.Delay(wait, stopping);
                    }

                    await session.DepositAsync(handles[account], 1m, stopping);
                    latencies[op] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    Interlocked.Increment(ref deposited[account]);
                }
            }));
            var elapsed = clock.Elapsed;
            var gc = GcFigures.Now().Since(gcAtStart);

            // The store's catch-up: from the last deposit until it holds everything the journal has.
            double? caughtUpMs = null;
            if (sampleStore && await StoreRunsAsync(session, stopping))
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
            var killing = Stopwatch.StartNew();
            await Parallel.ForEachAsync(handles, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping },
                async (handle, ct) => await session.KillAsync(handle.Name, ct));
            var killed = PhaseFigures.Now(Accounts, killing.Elapsed);

            Array.Sort(latencies);
            return new BenchResult(Total / elapsed.TotalSeconds, latencies, verified, maxLag, caughtUpMs, gc, opened, killed);
        }

        /// <summary>
        /// Deposits from <see cref="Concurrency"/> callers, round the accounts, until <see cref="Warmup"/> has passed;
        /// they count towards the balances checked at the end.
        /// </summary>
        private async Task WarmUpAsync(BankSession session, ActorInfo[] handles, long[] deposited, CancellationToken stopping)
        {
            if (Warmup <= TimeSpan.Zero) return;
            var clock = Stopwatch.StartNew();
            long next = -1;
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
            {
                while (clock.Elapsed < Warmup)
                {
                    var account = (int)(Interlocked.Increment(ref next) % handles.Length);
                    await session.DepositAsync(handles[account], 1m, stopping);
                    Interlocked.Increment(ref deposited[account]);
                }
            }));

            // The optimizing compiler works in the background, and under full load on 2 cores it falls seconds
            // behind: the measured deposits start once it has compiled nothing for half a second (10 s at most).
            var quiet = Stopwatch.StartNew();
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            var waited = Stopwatch.StartNew();
            while (quiet.Elapsed < TimeSpan.FromMilliseconds(500) && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), stopping);
                var now = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (now != compiled) quiet.Restart();
                compiled = now;
            }
        }
    }

    /// <summary>Whether the cluster feeds a state store (a cluster may run with it off).</summary>
    private static async Task<bool> StoreRunsAsync(BankSession session, CancellationToken cancellationToken)
    {
        try
        {
            await session.StateStoreProgressAsync(cancellationToken);
            return true;
        }
        catch (BankException)
        {
            return false;
        }
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

    private static int WarmupSeconds(ParseResult parsed)
    {
        if (parsed.GetValue(Warmup) is not { } text) return DefaultWarmupSeconds;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 600
            ? seconds
            : throw new UsageException($"--warmup must be a whole number of seconds from 0 to 600, not '{TextEcho.OneLine(text)}'");
    }

    private static int PositiveCount(ParseResult parsed, Option<string?> option, int fallback)
    {
        if (parsed.GetValue(option) is not { } text) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 10_000_000
            ? count
            : throw new UsageException($"{option.Name} must be a whole number from 1 to 10000000, not '{TextEcho.OneLine(text)}'");
    }
}
