using System.Collections.Concurrent;
using System.Diagnostics;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Nodes.Cli;

/// <summary>What `bank bench --duration D` runs: <paramref name="Rate"/> operations a second over the accounts for D.</summary>
/// <param name="Chaos">An account crashes every <see cref="SoakRun.ChaosEvery"/> (the node must allow fault injection).</param>
internal sealed record SoakPlan(int Accounts, int Rate, TimeSpan Duration, bool Chaos, TimeSpan SampleEvery);

/// <summary>
/// A soak: a steady offered load of deposits, withdrawals and transfers between the accounts, each under its own id and
/// resent with that id until it has a definite answer, so the client's record of acknowledged operations is exact; then
/// every balance is checked against that record and the total against the money that came in and went out. Memory is
/// sampled as it goes. Everything it keeps grows with the accounts, never with the operations, so that it adds
/// nothing to the memory it measures.
/// </summary>
internal sealed class SoakRun(SoakPlan plan, BankSession session, Action<MemorySample> sampled)
{
    /// <summary>Every account starts with this much, so that withdrawals and transfers are seldom refused.</summary>
    public const decimal Opening = 100_000m;

    public static readonly TimeSpan ChaosEvery = TimeSpan.FromSeconds(2);

    /// <summary>How long one operation is resent before it counts as unresolved (well inside the ids' 10-minute retention).</summary>
    private static readonly TimeSpan ResendFor = TimeSpan.FromMinutes(3);

    // Bounds what a stalled cluster can pile up in this process: past it the schedule waits, and the lateness shows as latency.
    private const int MaxInFlight = 2000;

    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);
    private readonly LatencyHistogram _latency = new();
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly List<MemorySample> _samples = [];
    private long[] _moved = [];
    private long _done, _deposits, _withdrawals, _transfers, _refused, _resends, _unresolved, _moneyIn, _moneyOut, _crashesInjected;

    public async Task<SoakResult> ExecuteAsync(CancellationToken stopping)
    {
        var handles = new ActorInfo[plan.Accounts];
        _moved = new long[plan.Accounts];
        // Restarts and retries without limit: an injected crash restarts the account and its calls in flight are resent.
        // An open sent again after no answer finds the account its first send may have opened.
        var options = new AccountOptions(Opening, 0m) { Detached = true, MaxRestarts = -1, MaxTaskRetries = -1, GetIfExists = true };
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Accounts), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping },
            async (i, ct) => handles[i] = await ResendingAsync(() => session.OpenAsync($"soak-{_run}-{i}", options, ct), ct));

        var clock = Stopwatch.StartNew();
        using var background = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var sampler = SampleAsync(clock, background.Token);
        var chaos = plan.Chaos ? ChaosAsync(handles, background.Token) : Task.CompletedTask;

        await OfferLoadAsync(handles, clock, stopping);
        var loadElapsed = clock.Elapsed;
        // Every operation in flight ends (answered, or resent until ResendFor has passed) before anything is checked.
        for (var i = 0; i < MaxInFlight; i++) await _slots.WaitAsync(stopping);

        await background.CancelAsync();
        await Task.WhenAll(sampler, chaos);
        _samples.Add(MemorySample.Take(clock.Elapsed, Interlocked.Read(ref _done), 0));
        sampled(_samples[^1]);

        var mismatched = 0;
        decimal found = 0;
        long restarts = 0;
        for (var i = 0; i < handles.Length; i++)
        {
            var balance = await ResendingAsync(() => session.BalanceAsync(handles[i], stopping), stopping);
            found += balance;
            if (balance != Opening + _moved[i]) mismatched++;
            restarts += (await ResendingAsync(() => session.GetActorAsync(handles[i].Name, stopping), stopping)).Restarts;
        }

        await Parallel.ForEachAsync(handles, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stopping }, async (handle, ct) =>
        {
            try
            {
                await ResendingAsync(() => session.KillAsync(handle.Name, ct), ct);
            }
            catch (BankException e) when (e.Kind == ErrorKind.ActorNotFound)
            {
                // A kill sent again after no answer: the first one was done.
            }
        });

        var expected = Opening * plan.Accounts + _moneyIn - _moneyOut;
        return new SoakResult(plan, loadElapsed, _done, _deposits, _withdrawals, _transfers, _refused, _resends, _unresolved,
            new Dictionary<string, long>(_errors), _crashesInjected, restarts, expected, found, mismatched, _latency, [.. _samples]);
    }

    /// <summary>Starts each operation at its slot of the schedule (open loop): a slow moment delays none of the later ones.</summary>
    private async Task OfferLoadAsync(ActorInfo[] handles, Stopwatch clock, CancellationToken stopping)
    {
        var ticksPerOp = Stopwatch.Frequency / (double)plan.Rate;
        var origin = Stopwatch.GetTimestamp();
        long op = 0;
        while (clock.Elapsed < plan.Duration)
        {
            // All operations due by now start together: a timer wakes every millisecond or so, not at every slot.
            var now = Stopwatch.GetTimestamp();
            for (; origin + (long)(op * ticksPerOp) <= now; op++)
            {
                await _slots.WaitAsync(stopping);
                _ = RunAsync(op, origin + (long)(op * ticksPerOp), handles, stopping);
            }

            var next = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), origin + (long)(op * ticksPerOp));
            if (next > TimeSpan.Zero) await Task.Delay(next, stopping);
        }
    }

    private async Task RunAsync(long op, long due, ActorInfo[] handles, CancellationToken stopping)
    {
        try
        {
            var random = Random.Shared;
            var amount = random.Next(1, 101);
            var a = random.Next(handles.Length);
            var id = $"soak-{_run}-{op}";
            var pick = random.Next(10);
            if (pick < 4)
            {
                if (await AppliedAsync(() => session.DepositAsync(handles[a], amount, id, stopping), stopping) is null) return;
                Interlocked.Add(ref _moved[a], amount);
                Interlocked.Add(ref _moneyIn, amount);
                Interlocked.Increment(ref _deposits);
            }
            else if (pick < 6)
            {
                if (await AppliedAsync(() => session.WithdrawAsync(handles[a], amount, id, stopping), stopping) is null) return;
                Interlocked.Add(ref _moved[a], -amount);
                Interlocked.Add(ref _moneyOut, amount);
                Interlocked.Increment(ref _withdrawals);
            }
            else
            {
                var b = (a + 1 + random.Next(handles.Length - 1)) % handles.Length;
                if (await AppliedAsync(() => session.TransferAsync(handles[a], handles[b], amount, id, stopping), stopping) is null) return;
                Interlocked.Add(ref _moved[a], -amount);
                Interlocked.Add(ref _moved[b], amount);
                Interlocked.Increment(ref _transfers);
            }

            _latency.Add(Stopwatch.GetElapsedTime(due));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Interrupted: the run reports nothing.
        }
        finally
        {
            Interlocked.Increment(ref _done);
            _slots.Release();
        }
    }

    /// <summary>The call's answer once it is definite; null when it was refused, failed, or stayed unresolved.</summary>
    private async Task<T?> AppliedAsync<T>(Func<Task<T>> call, CancellationToken stopping) where T : class =>
        await DefiniteAsync(async () => (object)await call(), stopping) as T;

    private async Task<decimal?> AppliedAsync(Func<Task<decimal>> call, CancellationToken stopping) =>
        await DefiniteAsync(async () => (object)await call(), stopping) is decimal balance ? balance : null;

    private async Task<object?> DefiniteAsync(Func<Task<object>> call, CancellationToken stopping)
    {
        var resending = Stopwatch.StartNew();
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (BankException e) when (e.Kind == ErrorKind.RuleViolation)
            {
                Interlocked.Increment(ref _refused);
                return null;
            }
            catch (BankException e) when (Resendable(e) && resending.Elapsed < ResendFor)
            {
                Interlocked.Increment(ref _resends);
            }
            catch (BankException e) when (Resendable(e))
            {
                Interlocked.Increment(ref _unresolved);
                return null;
            }
            catch (BankException e)
            {
                // Neither done nor worth resending: the check of the balances says whether it was applied after all.
                _errors.AddOrUpdate(e.Code, 1, (_, n) => n + 1);
                return null;
            }

            await Task.Delay(backoff, stopping);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.TicksPerSecond));
        }
    }

    /// <summary>
    /// Not done, or maybe done, after the session's own resends: the same id goes again. Never an id the account may have
    /// forgotten (IdExpired): the check of the balances says whether that one was applied.
    /// </summary>
    private static bool Resendable(BankException e) =>
        e.MayResendSameId;

    /// <summary>A read or a kill, resent on "try again" answers until it is answered (each is safe to repeat).</summary>
    private static async Task<T> ResendingAsync<T>(Func<Task<T>> call, CancellationToken stopping)
    {
        var resending = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (BankException e) when (Resendable(e) && resending.Elapsed < ResendFor)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), stopping);
            }
        }
    }

    /// <summary>A memory sample every <see cref="SoakPlan.SampleEvery"/>, with the operations finished and their rate since the last.</summary>
    private async Task SampleAsync(Stopwatch clock, CancellationToken stopping)
    {
        long lastOps = 0;
        var last = TimeSpan.Zero;
        try
        {
            while (true)
            {
                await Task.Delay(plan.SampleEvery, stopping);
                var ops = Interlocked.Read(ref _done);
                var now = clock.Elapsed;
                var sample = MemorySample.Take(now, ops, (ops - lastOps) / Math.Max((now - last).TotalSeconds, 1e-6));
                (lastOps, last) = (ops, now);
                _samples.Add(sample);
                sampled(sample);
            }
        }
        catch (OperationCanceledException)
        {
            // The load is over.
        }
    }

    /// <summary>Every <see cref="ChaosEvery"/> a random account is told to crash on its next change.</summary>
    private async Task ChaosAsync(ActorInfo[] handles, CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ChaosEvery, stopping);
                try
                {
                    await session.CrashAsync(handles[Random.Shared.Next(handles.Length)].Name, 1, stopping);
                    Interlocked.Increment(ref _crashesInjected);
                }
                catch (BankException e) when (e.Kind == ErrorKind.ClusterUnreachable)
                {
                    // Not injected this time: the count says how many were.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The load is over.
        }
    }
}

/// <summary>Latencies in whole milliseconds up to a minute (one counter each): fixed memory however long the soak runs.</summary>
internal sealed class LatencyHistogram
{
    private readonly long[] _counts = new long[60_001];
    private long _total;

    public void Add(TimeSpan latency)
    {
        Interlocked.Increment(ref _counts[Math.Clamp((int)latency.TotalMilliseconds, 0, _counts.Length - 1)]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The latency under which a share <paramref name="p"/> of the operations finished, in ms (60000: a minute or more).</summary>
    public int Percentile(double p)
    {
        var total = Interlocked.Read(ref _total);
        var rank = (long)Math.Ceiling(p * total);
        long seen = 0;
        for (var ms = 0; ms < _counts.Length; ms++)
            if ((seen += _counts[ms]) >= rank && seen > 0) return ms;
        return 0;
    }
}
