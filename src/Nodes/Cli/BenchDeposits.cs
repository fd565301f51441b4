using System.Diagnostics;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Metrics;

namespace Bank.Nodes.Cli;

/// <summary>How long opening (or killing) the accounts took, and the working set right after.</summary>
internal sealed record PhaseFigures(int Accounts, TimeSpan Elapsed, long WorkingSet, long HeapBytes, long CommittedBytes)
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

internal sealed record BenchResult(double OpsPerSecond, double[] SortedLatencies, bool Verified, long MaxLag, double? CaughtUpMs, GcFigures Gc,
    MailboxCounts Messages, PhaseFigures Opened, PhaseFigures Killed)
{
    /// <summary>Actor messages per deposit, all of them or those to the account's actors (<see cref="MailboxTraffic"/>).</summary>
    public double MessagesPer(long operations, bool accountOnly = false) =>
        (accountOnly ? Messages.AccountMessages : Messages.AllMessages) / (double)Math.Max(operations, 1);

    public double Percentile(double p) =>
        SortedLatencies.Length == 0 ? 0 : SortedLatencies[Math.Min(SortedLatencies.Length - 1, (int)Math.Ceiling(p * SortedLatencies.Length) - 1)];
}

/// <summary>
/// This process's garbage collections while the deposits ran: with an embedded node, the node's and the callers'
/// (one process); through ClusterClient, the client's alone.
/// </summary>
internal sealed record GcFigures(int Gen0, int Gen1, int Gen2, double PausedMs, long AllocatedBytes)
{
    // Precise: counts what the threads' allocation contexts hold, not only what they have handed back.
    public static GcFigures Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
        GC.GetTotalPauseDuration().TotalMilliseconds, GC.GetTotalAllocatedBytes(precise: true));

    public double AllocatedMb => AllocatedBytes / (1024.0 * 1024);

    public GcFigures Since(GcFigures start) =>
        new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, PausedMs - start.PausedMs, AllocatedBytes - start.AllocatedBytes);

    /// <summary>Bytes allocated per operation over <paramref name="operations"/>.</summary>
    public double BytesPer(long operations) => AllocatedBytes / (double)Math.Max(operations, 1);
}

/// <summary>
/// One run: open the accounts, warm up (deposits for <paramref name="Warmup"/>, not measured: the runtime compiles
/// the hot paths again, optimized, in its first seconds), deposit 1 into each M times, check every balance, kill
/// the accounts. Each phase that runs long reports its progress on <paramref name="Progress"/> (stderr) every
/// <paramref name="ProgressEvery"/>. <paramref name="Allocations"/>, when given, samples what the measured deposits allocate.
/// </summary>
internal sealed record BenchRun(int Accounts, int Ops, int Concurrency, int? Rate, TimeSpan Warmup, TextWriter Progress, TimeSpan ProgressEvery,
    BenchAllocations? Allocations = null, TimeSpan HoldOpen = default)
{
    public long Total => (long)Accounts * Ops;

    private BenchProgress Phase(string name, long? total) => BenchProgress.Start(name, total, Progress, ProgressEvery);

    public async Task<BenchResult> ExecuteAsync(BankSession session, bool sampleStore, CancellationToken stopping)
    {
        var name = Guid.NewGuid().ToString("N")[..8];
        var handles = new ActorInfo[Accounts];
        var opening = Stopwatch.StartNew();
        await using (var progress = Phase("opening accounts", Accounts))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, Accounts), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping },
                async (i, ct) =>
                {
                    handles[i] = await session.OpenAsync($"bench-{name}-{i}", new AccountOptions(0m, 0m) { Detached = true }, ct);
                    progress.Done();
                });
        }

        var opened = PhaseFigures.Now(Accounts, opening.Elapsed);
        if (HoldOpen > TimeSpan.Zero)
        {
            // The line benchmarks/heap-breakdown.sh waits for before it takes its heap dump.
            await Progress.WriteLineAsync($"bench: all {Accounts} accounts open in process {Environment.ProcessId}; holding them {HoldOpen.TotalSeconds:0} s");
            await Task.Delay(HoldOpen, stopping);
        }

        var latencies = new double[Total];
        var deposited = new long[Accounts];
        await WarmUpAsync(session, handles, deposited, stopping);
        long next = -1;
        long maxLag = 0;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lagSampler = sampleStore ? SampleLagAsync(session, lag => maxLag = Math.Max(maxLag, lag), sampling.Token) : Task.CompletedTask;

        // Counted as done and reported on stderr while it runs; the reporter stops with the phase, even a failed one.
        var depositing = Phase("deposits", Total);
        var clock = Stopwatch.StartNew();
        TimeSpan elapsed;
        GcFigures gc;
        MailboxCounts messages;
        try
        {
            var messagesAtStart = MailboxTraffic.Now();
            var gcAtStart = GcFigures.Now();
            Allocations?.Start();
            clock.Restart();
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
                    depositing.Done();
                }
            }));
            elapsed = clock.Elapsed;
            Allocations?.Stop();
            gc = GcFigures.Now().Since(gcAtStart);
            messages = MailboxTraffic.Now().Since(messagesAtStart);
        }
        finally
        {
            await depositing.DisposeAsync();
        }

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
        await using (var progress = Phase("checking balances", Accounts))
        {
            foreach (var (handle, i) in handles.Select((h, i) => (h, i)))
            {
                verified &= await session.BalanceAsync(handle, stopping) == deposited[i];
                progress.Done();
            }
        }

        var killing = Stopwatch.StartNew();
        await using (var progress = Phase("killing accounts", Accounts))
        {
            await Parallel.ForEachAsync(handles, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping },
                async (handle, ct) =>
                {
                    await session.KillAsync(handle.Name, ct);
                    progress.Done();
                });
        }

        var killed = PhaseFigures.Now(Accounts, killing.Elapsed);

        Array.Sort(latencies);
        return new BenchResult(Total / elapsed.TotalSeconds, latencies, verified, maxLag, caughtUpMs, gc, messages, opened, killed);
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
        await using (var progress = Phase("warm-up deposits", total: null))
        {
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
            {
                while (clock.Elapsed < Warmup)
                {
                    var account = (int)(Interlocked.Increment(ref next) % handles.Length);
                    await session.DepositAsync(handles[account], 1m, stopping);
                    Interlocked.Increment(ref deposited[account]);
                    progress.Done();
                }
            }));
        }

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
}
