using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Metrics;

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

    /// <summary>Seconds between two progress lines of a long phase on stderr, unless --progress says otherwise.</summary>
    public const int DefaultProgressSeconds = 5;

    /// <summary>Operations a second a soak offers unless --rate says otherwise.</summary>
    public const int DefaultSoakRate = 200;

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

    private static readonly Option<string?> Progress = new("--progress")
    {
        HelpName = "SECONDS", Description = "A phase (opens, deposits, checks, kills) that runs twice SECONDS reports its progress on stderr " +
            $"every SECONDS: done/total, rate, elapsed (default {DefaultProgressSeconds}; 0: never).",
    };

    private static readonly Option<string?> Recovery = new("--recovery")
    {
        HelpName = "EVENTS", Description = "Instead: time the recovery of an account with EVENTS events, from its snapshot and without; on SQLite, also the stages of a replay (read, deserialize, deliver, fold), each timed apart.",
    };

    private static readonly Option<string?> Duration = new("--duration")
    {
        HelpName = "D", Description = "Instead: a soak of D (90s, 2m, 1h) at --rate operations a second (default 200): deposits, withdrawals " +
            "and transfers, memory sampled every 10 s on stderr, then money conserved and every balance verified.",
    };

    private static readonly Option<bool> Chaos = new("--chaos")
    {
        Description = "With --duration: crash an account every 2 s (the embedded node allows it; a cluster needs --allow-fault-injection).",
    };

    private static readonly Option<string?> Samples = new("--samples")
    {
        HelpName = "FILE", Description = "With --duration: write the memory samples to FILE as CSV (for benchmarks/Plot --soak).",
    };

    private static readonly Option<string?> Allocations = new("--allocations")
    {
        HelpName = "N", Description = "Also: the N types the measured deposits allocate most, from the runtime's allocation samples, on stderr " +
            "(the sampling slows the run a little).",
    };

    private static readonly Option<string?> HoldOpen = new("--hold-open")
    {
        HelpName = "SECONDS", Description = "Also: once every account is open, print this process's id on stderr and hold the accounts open " +
            "SECONDS before the deposits (time for a heap dump: benchmarks/heap-breakdown.sh).",
    };

    public static Command Create()
    {
        var bench = new Command("bench",
            "N accounts x M deposits on an embedded node, or on a running cluster through ClusterClient with --address: ops/s, " +
            "p50/p95/p99, peak memory, verified balances, and how far the state store lagged.")
        {
            Accounts, Ops, Concurrency, Rate, SharedOptions.Journal, SharedOptions.Data, SharedOptions.Connection, StateStore,
            SharedOptions.ClusterAddress, SharedOptions.Tls, Warmup, Progress, Allocations, HoldOpen, Recovery, Duration, Chaos, Samples,
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
        var progressEvery = ProgressInterval(parsed);
        var remote = parsed.Has(SharedOptions.ClusterAddress);
        if (remote && (parsed.Has(SharedOptions.Journal) || parsed.Has(SharedOptions.Data) || parsed.Has(SharedOptions.Connection) || parsed.Has(StateStore)))
            throw new UsageException("--address benches a running cluster, which has its own journal and state store: leave out --journal, --data, --connection and --state-store");
        int? recovery = parsed.Has(Recovery) ? PositiveCount(parsed, Recovery, 0) : null;
        if (recovery is not null && remote)
            throw new UsageException("--recovery measures an embedded node's journal: leave out --address");
        var store = parsed.GetValue(StateStore) ?? "on";
        if (store is not ("on" or "off")) throw new UsageException($"--state-store must be on or off, not '{TextEcho.OneLine(store)}'");
        var soak = SoakPlanOf(parsed, accounts, rate ?? DefaultSoakRate);
        if (soak is not null && recovery is not null) throw new UsageException("--duration runs a soak and --recovery times a recovery: give one of them");
        if (soak is null && (parsed.Has(Chaos) || parsed.Has(Samples))) throw new UsageException("--chaos and --samples go with a soak: add --duration");
        if (parsed.Has(HoldOpen) && (remote || soak is not null || recovery is not null))
            throw new UsageException("--hold-open holds an embedded node's accounts open for a heap dump: leave out --address, --duration and --recovery");

        RunningNode? node = null;
        BankClient? client = null;
        string where;
        string journalKind;
        string? sqliteJournal = null;
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
                // The node logs as `bank start` does (warnings, on stderr), so that stdout keeps only the figures.
                node = await RunningNode.StartAsync((builder, _) => builder
                    .ConfigureLoggers(loggers =>
                    {
                        loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
                        loggers.ClearLoggers();
                        loggers.AddLogger<FilteringLoggerFactoryLogger>();
                        loggers.WithLogFilter(filter => RunningNode.NodeLogFilter(filter));
                    })
                    .WithBankNode(new BankNodeOptions { Port = 0, Persistence = persistence, AllowFaultInjection = soak?.Chaos ?? false })
                    .AddHocon($"bank.state-store.enabled = {store}", HoconAddMode.Prepend)
                    // Every actor's messages counted, for the messages per deposit (one interlocked add per message).
                    .AddHocon(CountingMailbox.EveryActorHocon, HoconAddMode.Prepend), RunningNode.WarningsToStderr);
                where = $"embedded node, journal {data}";
                journalKind = persistence.Journal.ToString().ToLowerInvariant();
                if (persistence.Journal == JournalKind.Sqlite) sqliteJournal = persistence.ConnectionString;
            }

            if (recovery is { } events)
            {
                PrintRecovery(await RecoveryBench.RunAsync(node!.System, events, sqliteJournal, node.Stopping), where);
                return ExitCodes.Ok;
            }

            await using var session = client is not null ? client.OpenSession() : new BankSession(node!.Gateway);
            var stopping = node?.Stopping ?? CancellationToken.None;
            if (soak is not null) return await SoakAsync(soak, session, where, remote, parsed.GetValue(Samples), stopping);
            using var allocations = parsed.Has(Allocations) ? new BenchAllocations() : null;
            var run = new BenchRun(accounts, ops, concurrency, rate, TimeSpan.FromSeconds(warmup), output.Stderr, progressEvery, allocations,
                TimeSpan.FromSeconds(HoldOpenSeconds(parsed)));
            var result = await run.ExecuteAsync(session, sampleStore: remote || store == "on", stopping);
            // Ahead of the result line, which stays the last line of the run.
            if (allocations is not null) PrintAllocations(allocations, PositiveCount(parsed, Allocations, 20));
            PrintDeposits(result, run, where, journalKind, remote ? "cluster" : store, remote);
            return result.Verified ? ExitCodes.Ok : ExitCodes.Failure;
        }
        finally
        {
            if (client is not null) await client.DisposeAsync();
            if (node is not null) await node.DisposeAsync();
        }
    }

    private void PrintDeposits(BenchResult result, BenchRun run, string where, string journal, string store, bool remote)
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
                ["allocated_bytes_per_op"] = Math.Round(result.Gc.BytesPer(run.Total), 0),
                // Whose allocation it is: the one process of an embedded node and its callers, or a remote cluster's client alone.
                ["allocated_in"] = remote ? "client" : "process",
                // Actor messages on the node per measured deposit (MailboxTraffic): counted only where the node is this process.
                ["hops_per_op"] = remote ? null : Math.Round(result.MessagesPer(run.Total), 1),
                ["account_hops_per_op"] = remote ? null : Math.Round(result.MessagesPer(run.Total, accountOnly: true), 1),
                ["hops_in"] = remote ? "not counted: the node is another process" : "process",
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
            $"{result.Gc.AllocatedMb:0} MB allocated, {result.Gc.BytesPer(run.Total):0} bytes per deposit " +
            $"({(remote ? "this client process only" : "this process: node and callers")}){(remote ? "" : MessagesLine(result, run))}; opened {result.Opened.PerSecond:0} accounts/s " +
            $"(with all open: working set {result.Opened.WorkingSetMb:0} MB, managed heap {result.Opened.HeapMb:0} MB at the last collection, " +
            $"{result.Opened.CommittedMb:0} MB committed by the collector), killed {result.Killed.PerSecond:0}/s"));
    }

    /// <summary>The types the deposits allocated most, by their share of the sampled bytes, one line each on stderr.</summary>
    private void PrintAllocations(BenchAllocations allocations, int top)
    {
        foreach (var (type, share) in allocations.Top(top))
            output.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: allocated {share * 100,5:0.0} % {type}"));
    }

    /// <summary>What one deposit cost in actor messages on the embedded node, those to the account's own actors apart.</summary>
    private static string MessagesLine(BenchResult result, BenchRun run) => string.Create(CultureInfo.InvariantCulture,
        $", {result.MessagesPer(run.Total):0.0} messages per deposit ({result.MessagesPer(run.Total, accountOnly: true):0.0} to the account's actors)");

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
                ["stages_ms"] = figures.Stages is not { } stages ? null : new JsonObject
                {
                    ["read"] = Math.Round(stages.ReadMs, 1),
                    ["deserialize"] = Math.Round(stages.DeserializeMs, 1),
                    ["deliver"] = Math.Round(stages.DeliverMs, 1),
                    ["journal_replay"] = Math.Round(stages.JournalReplayMs, 1),
                    ["apply"] = Math.Round(stages.ApplyMs, 1),
                    ["apply_one_by_one"] = Math.Round(stages.ApplyOneByOneMs, 1),
                },
            });
            return;
        }

        output.Line(string.Create(CultureInfo.InvariantCulture,
            $"recovery: an account with {figures.Events} events, {where}: from its snapshot at event {figures.SnapshotAt} " +
            $"(replaying {figures.ReplayedAfterSnapshot}) in {Median(figures.WithSnapshotMs):0.0} ms " +
            $"(median of {figures.WithSnapshotMs.Length}, {figures.WithSnapshotMs.Min():0.0}-{figures.WithSnapshotMs.Max():0.0} ms); " +
            $"without snapshots in {Median(figures.WithoutSnapshotMs):0} ms " +
            $"(median of {figures.WithoutSnapshotMs.Length}, {figures.WithoutSnapshotMs.Min():0}-{figures.WithoutSnapshotMs.Max():0} ms)"));
        if (figures.Stages is { } s)
            output.Line(string.Create(CultureInfo.InvariantCulture,
                $"recovery stages without a snapshot, timed apart (median of 3, ms): read {s.ReadMs:0.0}, deserialize {s.DeserializeMs:0.0}, " +
                $"deliver {s.DeliverMs:0.0}, " +
                $"the journal's replay into a counting actor (read, deserialize, deliver) {s.JournalReplayMs:0.0}, " +
                $"the account's fold {s.ApplyMs:0.0} (one by one, 1 run: {s.ApplyOneByOneMs:0.0})"));
    }

    /// <summary>
    /// The soak: samples on stderr as they come (and in the --samples file), the summary on stdout; exit 1 unless the
    /// money is conserved, every balance verified and every operation answered.
    /// </summary>
    private async Task<int> SoakAsync(SoakPlan plan, BankSession session, string where, bool remote, string? samplesFile, CancellationToken stopping)
    {
        await using var csv = samplesFile is null ? null : new StreamWriter(samplesFile, append: false);
        if (csv is not null) await csv.WriteLineAsync(MemorySample.CsvHeader);
        var memoryOf = remote
            ? "this client process only: a cluster's nodes do not report their memory"
            : "this process: the embedded node and the load";
        var result = await new SoakRun(plan, session, sample =>
        {
            output.Stderr.WriteLine(sample.Line());
            if (csv is null) return;
            csv.WriteLine(sample.Csv());
            csv.Flush();
        }).ExecuteAsync(stopping);
        if (output.Json) output.PrintJson(result.Json(where, memoryOf));
        else foreach (var line in result.Lines(where, memoryOf)) output.Line(line);
        return result.Passed ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>The soak --duration asks for, or null; the deposit bench's own options do not go with it.</summary>
    private static SoakPlan? SoakPlanOf(ParseResult parsed, int accounts, int rate)
    {
        if (parsed.GetValue(Duration) is not { } text) return null;
        if (parsed.Has(Ops) || parsed.Has(Concurrency) || parsed.Has(Warmup))
            throw new UsageException("--duration runs a soak at --rate for that long: leave out --ops, --concurrency and --warmup");
        if (accounts < 2) throw new UsageException("a soak moves money between accounts: --accounts must be at least 2");
        return new SoakPlan(accounts, rate, ParseDuration(text), parsed.GetValue(Chaos), TimeSpan.FromSeconds(10));
    }

    /// <summary>90, 90s, 2m or 1h: from 1 second to 24 hours.</summary>
    private static TimeSpan ParseDuration(string text)
    {
        var (digits, unit) = text.Length > 0 && char.IsAsciiLetter(text[^1]) ? (text[..^1], text[^1]) : (text, 's');
        var seconds = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        return seconds > 0 && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1 && (long)count * seconds <= 24 * 3600
            ? TimeSpan.FromSeconds((long)count * seconds)
            : throw new UsageException($"--duration must be a whole number of seconds, minutes or hours (90s, 2m, 1h) from 1s to 24h, not '{TextEcho.OneLine(text)}'");
    }

    private static int WarmupSeconds(ParseResult parsed)
    {
        if (parsed.GetValue(Warmup) is not { } text) return DefaultWarmupSeconds;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 600
            ? seconds
            : throw new UsageException($"--warmup must be a whole number of seconds from 0 to 600, not '{TextEcho.OneLine(text)}'");
    }

    private static int HoldOpenSeconds(ParseResult parsed)
    {
        if (parsed.GetValue(HoldOpen) is not { } text) return 0;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 3600
            ? seconds
            : throw new UsageException($"--hold-open must be a whole number of seconds from 1 to 3600, not '{TextEcho.OneLine(text)}'");
    }

    private static TimeSpan ProgressInterval(ParseResult parsed)
    {
        if (parsed.GetValue(Progress) is not { } text) return TimeSpan.FromSeconds(DefaultProgressSeconds);
        return decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds <= 3600
            ? TimeSpan.FromSeconds((double)seconds)
            : throw new UsageException($"--progress must be a number of seconds from 0 to 3600, not '{TextEcho.OneLine(text)}'");
    }

    private static int PositiveCount(ParseResult parsed, Option<string?> option, int fallback)
    {
        if (parsed.GetValue(option) is not { } text) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 10_000_000
            ? count
            : throw new UsageException($"{option.Name} must be a whole number from 1 to 10000000, not '{TextEcho.OneLine(text)}'");
    }
}
