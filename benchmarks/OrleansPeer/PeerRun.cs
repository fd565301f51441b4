using System.Diagnostics;

namespace Bank.Benchmarks.OrleansPeer;

/// <summary>The figures of one run, with the names `bank bench` gives the same figures.</summary>
public sealed record PeerResult(double OpsPerSecond, double[] SortedLatencies, bool Verified, int Gen0, int Gen1, int Gen2,
    double PausedMs, long AllocatedBytes, double ActivationsPerSecond, long WorkingSetAfterActivations)
{
    public double Percentile(double p) =>
        SortedLatencies.Length == 0 ? 0 : SortedLatencies[Math.Min(SortedLatencies.Length - 1, (int)Math.Ceiling(p * SortedLatencies.Length) - 1)];
}

/// <summary>
/// `bank bench`'s phases on Orleans: activate every grain (a grain is virtual: its first call opens it), warm up
/// (deposits for the warm-up seconds, then until the optimizing compiler falls quiet), deposit 1 into each account
/// M times from C callers (the measured phase), then check every balance. <paramref name="account"/> gives the grain of
/// a name (the silo's grain factory; a test's stand-in).
/// </summary>
public sealed class PeerRun(PeerOptions options, Func<string, IAccountGrain> account)
{
    public async Task<PeerResult> ExecuteAsync(CancellationToken stopping)
    {
        var name = Guid.NewGuid().ToString("N")[..8];
        var accounts = Enumerable.Range(0, options.Accounts).Select(i => account($"bench-{name}-{i}")).ToArray();
        var activating = Stopwatch.StartNew();
        await Parallel.ForEachAsync(accounts, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping },
            async (grain, _) => await grain.Balance());
        var activationsPerSecond = options.Accounts / Math.Max(activating.Elapsed.TotalSeconds, 1e-6);
        var workingSet = Process.GetCurrentProcess().WorkingSet64;

        var deposited = new long[options.Accounts];
        await WarmUpAsync(accounts, deposited, stopping);

        var latencies = new double[options.Total];
        long next = -1;
        var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var paused = GC.GetTotalPauseDuration();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            long op;
            while ((op = Interlocked.Increment(ref next)) < options.Total)
            {
                stopping.ThrowIfCancellationRequested();
                var i = (int)(op % options.Accounts);
                var started = Stopwatch.GetTimestamp();
                await accounts[i].Deposit(1m);
                latencies[op] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref deposited[i]);
            }
        }));
        var elapsed = clock.Elapsed;
        var allocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var pausedMs = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds;
        (gen0, gen1, gen2) = (GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2);

        var verified = true;
        for (var i = 0; i < accounts.Length; i++)
            verified &= await accounts[i].Balance() == deposited[i];

        Array.Sort(latencies);
        return new PeerResult(options.Total / elapsed.TotalSeconds, latencies, verified, gen0, gen1, gen2, pausedMs, allocatedBytes,
            activationsPerSecond, workingSet);
    }

    /// <summary>Deposits round the accounts for the warm-up seconds (they count in the balances checked at the end).</summary>
    private async Task WarmUpAsync(IAccountGrain[] accounts, long[] deposited, CancellationToken stopping)
    {
        if (options.WarmupSeconds <= 0) return;
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var clock = Stopwatch.StartNew();
        long next = -1;
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            while (clock.Elapsed < warmup)
            {
                stopping.ThrowIfCancellationRequested();
                var i = (int)(Interlocked.Increment(ref next) % accounts.Length);
                await accounts[i].Deposit(1m);
                Interlocked.Increment(ref deposited[i]);
            }
        }));

        // As `bank bench` does: the measured deposits start once the optimizing compiler has compiled nothing for
        // half a second (10 s at most), so that neither side is measured while the runtime still compiles.
        var quiet = Stopwatch.StartNew();
        var waited = Stopwatch.StartNew();
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (quiet.Elapsed < TimeSpan.FromMilliseconds(500) && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), stopping);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != compiled) quiet.Restart();
            compiled = now;
        }
    }
}
