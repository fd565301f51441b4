using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bank.Domain;
using Bank.Hosting.Client;
using Npgsql;
using Xunit;
using Xunit.Abstractions;
using Bank.Hosting.Contracts;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 4's chaos test: a head and two workers (failover needs three nodes) as real `bank start
/// --allow-fault-injection` processes on a fresh PostgreSQL database; 20 accounts; 2,000 random deposits and transfers
/// from several concurrent clients while accounts are crashed, and a worker is killed (`chaos kill-node`, like kill -9)
/// and a new worker started. Every call is sent again under its own request or transfer id until it gets a definite
/// answer. Afterwards the money adds up, no account is below its minimal balance, and every acknowledged operation is
/// in the journals exactly once; the figures are printed. Issue 17: the chaos itself is asserted too: the crashes it
/// planned took effect, the kill happened, and every account the killed node held answered within the README's
/// failover bound (<see cref="ClusterFailoverSpecs.FailoverLimit"/>) of the kill. Needs BANK_TEST_POSTGRES (skipped with that reason elsewhere); BANK_CHAOS_SEED=N replays a run's operations; BANK_CHAOS_DUMP=1 keeps the node logs of a run that passed.
/// A failed run leaves the nodes' logs, the journals and every outcome in a folder it names.
/// </summary>
[Collection(TimedFailoverCollection.Name)]
public sealed class ChaosSpecs(ITestOutputHelper output)
{
    private const int Accounts = 20;
    private const decimal Opening = 1000m;
    private const int Operations = 2000;
    private const int Clients = 4;
    private const int TasksPerClient = 6;

    /// <summary>About 30% of the operations are deposits, the rest transfers.</summary>
    private const double DepositShare = 0.3;

    /// <summary>
    /// An account is crashed again at the soonest this long after its last injection. Its BackoffSupervisor doubles the
    /// backoff (200 ms up to 5 s) for every crash within 200 ms of a restart, so an account crashed faster than it comes
    /// back never serves a call again until the chaos stops (seen: 5.3 s between restarts for 80 s). One or two crashes
    /// take about a second to recover from, even on a busy machine.
    /// </summary>
    private static readonly TimeSpan CrashCoolDown = TimeSpan.FromSeconds(4);

    /// <summary>At most this many injections, plus one for every few operations done: a slow machine gets fewer crashes.</summary>
    private const int CrashAllowance = 20;

    private const int OperationsPerCrash = 5;

    /// <summary>Fewer crash injections than this in a run and it proves nothing about crashes: it fails.</summary>
    private const int MinimumInjections = 10;

    /// <summary>The operations must all have definite answers within this, or the test fails instead of hanging.</summary>
    private static readonly TimeSpan OperationsDeadline = TimeSpan.FromSeconds(75);

    /// <summary>The final reads (states, histories) are retried within this.</summary>
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(20);

    private static string Name(int i) => $"chaos{i}";

    /// <summary>Every fourth account keeps 100 back, so that its transfers are refused earlier than the others'.</summary>
    private static decimal Minimal(int i) => i % 4 == 0 ? 100m : 0m;

    private static string Money(decimal amount) => amount.ToString("0.##", CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task Money_is_conserved_and_every_acknowledged_operation_is_journaled_once_while_accounts_crash_and_the_worker_dies()
    {
        var connectionString = PostgresDatabase.RequireConnectionString();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BANK_CHAOS_SEED"), out var given) ? given : Environment.TickCount & 0x7fffffff;
        output.WriteLine($"seed {seed} (BANK_CHAOS_SEED={seed} replays these operations)");
        var total = Stopwatch.StartNew();

        await using var cluster = await ChaosCluster.StartAsync(connectionString, output);
        await using var admin = await BankClient.ConnectAsync([cluster.Head.Address]);
        var adminSession = admin.OpenSession();

        // 1. The accounts, on both nodes.
        var actors = await BankCommands.LimitedAsync(Enumerable.Range(0, Accounts), 5, i =>
            adminSession.OpenAsync(Name(i), new AccountOptions(Opening, Minimal(i))
            {
                Detached = true,
                MaxRestarts = -1,
                MaxTaskRetries = -1,
            }));
        var listed = await adminSession.ListAsync();
        var perNode = cluster.Nodes.Select(n => listed.Count(a => a.State == ActorState.Alive && a.Node == cluster.NodeAddress(n))).ToList();
        output.WriteLine($"{Accounts} accounts of {Money(Opening)} opened after {total.Elapsed.TotalSeconds:0.0} s: " +
                         string.Join(", ", perNode.Select((c, i) => $"{c} on {cluster.Nodes[i].Description}")));
        Assert.True(perNode[^1] > 0 && perNode.Sum() == Accounts,
            "the accounts are not spread over the nodes, the worker to be killed included: " + string.Join(", ", listed.Select(a => $"{a.Name} on {a.Node}")));

        // 2. The operations, drawn up front from the seed; their ids are this run's own.
        var run = Guid.NewGuid().ToString("N")[..8];
        var random = new Random(seed);
        var ops = Enumerable.Range(0, Operations).Select(n =>
        {
            if (random.NextDouble() < DepositShare)
                return new Op(n, IsDeposit: true, From: -1, To: random.Next(Accounts), Amount: random.Next(1, 51), Id: $"dep-{run}-{n}");
            var from = random.Next(Accounts);
            var to = (from + random.Next(1, Accounts)) % Accounts;
            return new Op(n, IsDeposit: false, from, to, random.Next(1, 301), Id: $"tr-{run}-{n}");
        }).ToList();

        // 3. The clients, each with a few tasks, and the chaos beside them.
        var state = new RunState(Stopwatch.StartNew());
        var clients = new List<BankClient>();
        try
        {
            for (var c = 0; c < Clients; c++) clients.Add(await BankClient.ConnectAsync([cluster.Head.Address]));
            var work = Enumerable.Range(0, Clients).SelectMany(c =>
            {
                var session = clients[c].OpenSession();
                var queue = new ConcurrentQueue<Op>(ops.Where(o => o.Index % Clients == c));
                return Enumerable.Range(0, TasksPerClient).Select(_ => Task.Run(() => ClientTaskAsync(session, actors, queue, state)));
            }).ToList();
            var chaos = Task.Run(() => ChaosAsync(adminSession, cluster, state, seed));

            await Task.WhenAll(work);
            state.OperationsEndedAt = state.Clock.Elapsed;
            state.OperationsOver.Cancel();
            await chaos;
        }
        finally
        {
            state.OperationsOver.Cancel();
            foreach (var client in clients) await client.DisposeAsync();
        }

        var operationsTook = state.Clock.Elapsed;
        foreach (var line in state.Log) output.WriteLine(line);
        var outcomes = state.Outcomes.OrderBy(o => o.Op.Index).ToList();

        // 4. What the cluster says afterwards: each account's state and journal.
        var readClock = Stopwatch.StartNew();
        var replies = new AccountReply[Accounts];
        var histories = new History[Accounts];
        for (var i = 0; i < Accounts; i++)
        {
            var (actor, name) = (actors[i], Name(i));
            replies[i] = await RetryAsync(() => adminSession.StatusAsync(actor), readClock, $"state of {name}", cluster);
            histories[i] = await RetryAsync(() => adminSession.HistoryAsync(name), readClock, $"history of {name}", cluster);
        }

        var balances = replies.Select(r => r.Balance).ToArray();

        // 5. The figures, then the checks.
        var deposits = outcomes.Where(o => o.Op.IsDeposit && o.Result == Result.Ok).ToList();
        var transfersOk = outcomes.Where(o => !o.Op.IsDeposit && o.Result == Result.Ok).ToList();
        var transfersRefused = outcomes.Where(o => !o.Op.IsDeposit && o.Result == Result.Refused).ToList();
        var unexpected = outcomes.Where(o => o.Result == Result.Unexpected).ToList();
        var depositedTotal = deposits.Sum(o => o.Op.Amount);
        var expectedTotal = (Accounts * Opening) + depositedTotal;
        var actualTotal = balances.Sum();
        var events = histories.SelectMany((h, i) => h.Events.Select(e => (Account: i, Entry: e))).ToList();
        var restartsSeen = events.Count(e => e.Entry.Type == "restarted");
        var retried = outcomes.Where(o => o.Attempts > 1).ToList();
        var slowest = outcomes.MaxBy(o => o.Took);

        output.WriteLine($"operations: {outcomes.Count} of {Operations} answered in {operationsTook.TotalSeconds:0.0} s by {Clients} clients x {TasksPerClient} tasks " +
                         $"({outcomes.Count / Math.Max(0.1, operationsTook.TotalSeconds):0} a second)");
        output.WriteLine($"  deposits: {deposits.Count} acknowledged, {Money(depositedTotal)} in all");
        output.WriteLine($"  transfers: {transfersOk.Count} done, {transfersRefused.Count} refused" +
                         string.Concat(transfersRefused.GroupBy(o => o.Detail).Select(g => $"; {g.Count()} x {g.Key}")));
        output.WriteLine($"  unexpected or no definite answer: {unexpected.Count}");
        output.WriteLine($"  sent again under the same id after no answer: {retried.Count} operations, {retried.Sum(o => o.Attempts - 1)} times; " +
                         $"the slowest took {slowest?.Took.TotalSeconds:0.0} s ({slowest?.Attempts} attempts)");
        output.WriteLine($"chaos: {state.CrashesInjected} crash injections asking for {state.CrashesRequested} crashes ({state.CrashFailures} got no answer); " +
                         $"{restartsSeen} \"restarted\" events in the journals, restart counts now {replies.Sum(r => r.Restarts)} in all");
        output.WriteLine($"worker killed at {Seconds(state.KillAt)} after {state.DoneAtKill} operations, its process gone {Seconds(state.KillExitedAt - state.KillAt)} later; " +
                         $"new worker {state.NewWorker ?? "-"} up {Seconds(state.NewWorkerUpAt - state.KillAt)} after the kill");
        var failover = FailoverTimes(outcomes, state);
        output.WriteLine($"failover: the {state.OnKilledNode.Count} accounts on the killed worker answered again after " +
                         string.Join(", ", failover.Select(f => $"{Name(f.Account)} {Seconds(f.After)}")) +
                         $"; the slowest operation in flight at the kill ended {Seconds(SlowestAcrossKill(outcomes, state))} after it");
        var (planned, excused) = PlannedCrashes(state);
        output.WriteLine($"crashes planned to take effect: {planned} (not counted: {excused}, injected on the killed worker before the kill or " +
                         $"in the last {CrashCoolDown.TotalSeconds} s); took effect: {restartsSeen}");
        output.WriteLine($"afterwards: total balance {Money(actualTotal)}; {Accounts} x {Money(Opening)} + deposits {Money(depositedTotal)} = {Money(expectedTotal)}; " +
                         $"{events.Count} journal events; the reads took {readClock.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine("  balances: " + string.Join(", ", replies.Select((r, i) => $"{Name(i)}={Money(r.Balance)}" + (Minimal(i) > 0 ? $" (min {Money(Minimal(i))})" : ""))));
        output.WriteLine("  accounts now: " + string.Join(", ", replies.GroupBy(r => r.Node).Select(g =>
            $"{g.Count()} on {(g.Key == cluster.NodeAddress(cluster.Head) ? "the head" : g.Key == cluster.NodeAddress(cluster.Worker) ? "the new worker" : g.Key)}")));

        var problems = new List<string>();
        problems.AddRange(unexpected.Select(o => $"{o.Op}: {o.Detail}"));
        if (outcomes.Count != Operations) problems.Add($"only {outcomes.Count} of {Operations} operations got an answer within {OperationsDeadline.TotalSeconds} s");
        if (actualTotal != expectedTotal)
            problems.Add($"money is not conserved: the balances add up to {Money(actualTotal)}, the opening balances and acknowledged deposits to {Money(expectedTotal)}");
        problems.AddRange(CheckAccounts(replies, histories));
        problems.AddRange(CheckJournal(outcomes, events));
        problems.AddRange(CheckChaos(state, replies, restartsSeen, planned, failover, SlowestAcrossKill(outcomes, state)));

        output.WriteLine($"total duration {total.Elapsed.TotalSeconds:0.0} s; {problems.Count} problem(s)");
        if (SlowestOperationAcrossKill(outcomes, state) is { } slowestAcross)
            output.WriteLine($"  the slowest in flight at the kill: {slowestAcross.Op} => {slowestAcross.Result} after {slowestAcross.Attempts} attempt(s), " +
                             $"sent {Seconds(state.KillAt - slowestAcross.At)} before the kill");
        if (problems.Count > 0 || Environment.GetEnvironmentVariable("BANK_CHAOS_DUMP") == "1")
            output.WriteLine("node logs, journals, injections and every outcome: " + Dump(seed, run, cluster, histories, outcomes, state));
        foreach (var problem in problems.Take(50)) output.WriteLine("  PROBLEM: " + problem);
        Assert.True(problems.Count == 0,
            $"{problems.Count} problem(s), seed {seed}:\n{string.Join("\n", problems.Take(20))}{cluster.Diagnostics()}");
        await adminSession.DisposeAsync();
    }

    /// <summary>
    /// One task of a simulated client: takes operations off its client's queue and sends each, again and again under
    /// the same id, until the cluster gives a definite answer: done, or refused by a rule.
    /// </summary>
    private static async Task ClientTaskAsync(BankSession session, ActorInfo[] actors, ConcurrentQueue<Op> queue, RunState state)
    {
        while (state.Clock.Elapsed < OperationsDeadline && queue.TryDequeue(out var op))
        {
            var at = state.Clock.Elapsed;
            var took = Stopwatch.StartNew();
            var attempts = 0;
            Outcome? outcome = null;
            while (outcome is null)
            {
                attempts++;
                try
                {
                    if (op.IsDeposit)
                    {
                        await session.DepositAsync(actors[op.To], op.Amount, op.Id);
                        outcome = new Outcome(op, Result.Ok, "deposited", attempts, took.Elapsed);
                    }
                    else
                    {
                        var done = await session.TransferAsync(actors[op.From], actors[op.To], op.Amount, op.Id);
                        outcome = done.TransferId == op.Id && done.From == Name(op.From) && done.To == Name(op.To) && done.Amount == op.Amount
                            ? new Outcome(op, Result.Ok, "transferred", attempts, took.Elapsed)
                            : new Outcome(op, Result.Unexpected, $"the answer {done} is not about this transfer", attempts, took.Elapsed);
                    }
                }
                catch (BankException e) when (e.Kind == ErrorKind.RuleViolation)
                {
                    // No deposit here can break a rule; a transfer the source cannot cover is refused.
                    outcome = new Outcome(op, op.IsDeposit ? Result.Unexpected : Result.Refused, $"{e.Code}: {e.Message}", attempts, took.Elapsed);
                }
                catch (BankException e) when (e.MayResendSameId)
                {
                    // No answer (the failover), or a journal that failed: the outcome is unknown, so the same id goes again.
                    if (state.Clock.Elapsed > OperationsDeadline)
                        outcome = new Outcome(op, Result.Unexpected,
                            $"no definite answer within {OperationsDeadline.TotalSeconds} s after {attempts} attempts: {e.Message}", attempts, took.Elapsed);
                    else
                        await Task.Delay(TimeSpan.FromMilliseconds(200));
                }
                catch (Exception e)
                {
                    // Accounts with unlimited restarts and task retries never die: any other answer is a finding.
                    outcome = new Outcome(op, Result.Unexpected, $"{(e as BankException)?.Kind.ToString() ?? e.GetType().Name}: {e.Message}", attempts, took.Elapsed);
                }
            }

            state.Outcomes.Add(outcome with { At = at });
            Interlocked.Increment(ref state.Done);
        }
    }

    /// <summary>
    /// Every 100-200 ms crashes a random account (not one crashed within <see cref="CrashCoolDown"/>) on its next one or
    /// two calls; once a third of the operations are done, kills the worker through the head's gateway and starts a new
    /// one on a new port, so that the cluster is back to two nodes while the crashes go on.
    /// </summary>
    private static async Task ChaosAsync(BankSession session, ChaosCluster cluster, RunState state, int seed)
    {
        var random = new Random(seed + 1);
        var lastCrash = new TimeSpan?[Accounts];
        var killed = false;
        var over = state.OperationsOver.Token;
        while (!over.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(100, 201)), over);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var done = Volatile.Read(ref state.Done);
            if (!killed && done >= Operations / 3)
            {
                killed = true;
                await KillAndReplaceWorkerAsync(session, cluster, state);
                continue;
            }

            var now = state.Clock.Elapsed;
            var ready = Enumerable.Range(0, Accounts).Where(i => lastCrash[i] is not { } last || now - last >= CrashCoolDown).ToList();
            if (ready.Count == 0 || state.CrashesInjected >= CrashAllowance + (done / OperationsPerCrash)) continue;
            var account = ready[random.Next(ready.Count)];
            var times = random.Next(1, 3);
            lastCrash[account] = now;
            try
            {
                var injected = await session.CrashAsync(Name(account), times, over);
                state.Injections.Enqueue($"{now.TotalSeconds:0.000} {Name(account)} x{times} on {injected.Node}");
                state.Injected.Enqueue(new Injection(now, account, times, injected.Node));
                state.CrashesInjected++;
                state.CrashesRequested += times;
            }
            catch (OperationCanceledException) when (over.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is BankException or InvalidOperationException)
            {
                // During the failover an injection may get no answer; the chaos goes on.
                state.CrashFailures++;
                state.Log.Enqueue($"  {state.Clock.Elapsed.TotalSeconds:0.0} s: no crash of {Name(account)}: {e.Message}");
            }
        }
    }

    private static async Task KillAndReplaceWorkerAsync(BankSession session, ChaosCluster cluster, RunState state)
    {
        var worker = cluster.Worker;
        state.KilledNode = cluster.NodeAddress(worker);
        var listed = await session.ListAsync();
        state.OnKilledNode = listed.Where(a => a.State == ActorState.Alive && a.Node == state.KilledNode)
            .Select(a => int.Parse(a.Name["chaos".Length..], CultureInfo.InvariantCulture)).ToList();
        state.DoneAtKill = Volatile.Read(ref state.Done);
        var killed = await session.KillNodeAsync(worker.Address);
        // The kill's instant: the worker answers, then kills its own process 300 ms later (BankGateway.Kill).
        state.KillAt = state.Clock.Elapsed;
        state.Log.Enqueue($"  {state.Clock.Elapsed.TotalSeconds:0.0} s: `chaos kill-node {killed.Address}` answered, after {state.DoneAtKill} operations");
        await worker.KillAsync(); // it is dying already: this waits until its process is gone
        state.KillExitedAt = state.Clock.Elapsed;
        state.KilledExited = worker.HasExited;
        state.Log.Enqueue($"  {state.Clock.Elapsed.TotalSeconds:0.0} s: the worker's process is gone");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var replacement = await cluster.StartWorkerAsync();
        state.NewWorkerUpAt = state.Clock.Elapsed;
        state.NewWorker = replacement.Address;
        state.Log.Enqueue($"  {state.Clock.Elapsed.TotalSeconds:0.0} s: new worker {replacement.Address} up, {Volatile.Read(ref state.Done)} operations done");
    }

    /// <summary>
    /// The chaos happened as planned: enough injections, every crash planned took effect (a "restarted" event each), the
    /// worker was killed while it held accounts and they all answered again within the failover bound, as did every
    /// operation in flight at the kill.
    /// </summary>
    private static IEnumerable<string> CheckChaos(RunState state, AccountReply[] replies, int restartsSeen, int planned,
        IReadOnlyList<(int Account, TimeSpan? After)> failover, TimeSpan? slowestAcrossKill)
    {
        var bound = ClusterFailoverSpecs.FailoverLimit;
        if (state.CrashesInjected < MinimumInjections)
            yield return $"only {state.CrashesInjected} crash injections took place ({state.CrashFailures} got no answer), fewer than {MinimumInjections}";
        if (restartsSeen < planned)
            yield return $"fewer crashes took effect than planned: {restartsSeen} \"restarted\" events in the journals, {planned} crashes planned";
        if (state.KillAt is null || state.KillExitedAt is null || !state.KilledExited)
            yield return "the worker was not killed: " + (state.KillAt is null ? "no kill was sent" : "its process did not end");
        if (state.OnKilledNode.Count == 0)
            yield return $"the killed worker {state.KilledNode ?? "-"} held no account when it was killed, so no failover was tried";
        if (replies.Any(r => r.Node == state.KilledNode))
            yield return $"{replies.Count(r => r.Node == state.KilledNode)} account(s) still answer from the killed worker {state.KilledNode}";
        foreach (var (account, after) in failover)
        {
            if (after is not { } took)
                yield return $"{Name(account)}, on the killed worker, never answered an operation after the kill";
            else if (took > bound)
                yield return $"{Name(account)}, on the killed worker, answered again {took.TotalSeconds:0.0} s after the kill, over the {bound.TotalSeconds} s bound";
        }

        if (slowestAcrossKill > bound)
            yield return $"an operation in flight at the kill ended {slowestAcrossKill.Value.TotalSeconds:0.0} s after it, over the {bound.TotalSeconds} s bound";
    }

    /// <summary>
    /// For each account the killed worker held: how long after the kill the first operation that needed it ended with a
    /// definite answer once the worker's process was gone (a deposit to it, a transfer from it, a transfer done to it);
    /// null when none did.
    /// </summary>
    private static List<(int Account, TimeSpan? After)> FailoverTimes(IReadOnlyList<Outcome> outcomes, RunState state)
    {
        if (state.KillAt is not { } kill) return [];
        return state.OnKilledNode.Select(account =>
        {
            // Answers that came before the process was gone may have come from the dying worker itself.
            var gone = state.KillExitedAt ?? kill;
            var ends = outcomes
                .Where(o => o.Result != Result.Unexpected && o.At + o.Took > gone && Needs(o, account))
                .Select(o => o.At + o.Took - kill)
                .ToList();
            return (account, ends.Count == 0 ? (TimeSpan?)null : ends.Min());
        }).ToList();

        static bool Needs(Outcome o, int account) =>
            o.Op.IsDeposit ? o.Op.To == account : o.Op.From == account || (o.Result == Result.Ok && o.Op.To == account);
    }

    /// <summary>How long after the kill the last of the operations sent before it and still unanswered at it ended.</summary>
    private static TimeSpan? SlowestAcrossKill(IReadOnlyList<Outcome> outcomes, RunState state) =>
        state.KillAt is { } kill ? (SlowestOperationAcrossKill(outcomes, state) is { } o ? o.At + o.Took - kill : TimeSpan.Zero) : null;

    private static Outcome? SlowestOperationAcrossKill(IReadOnlyList<Outcome> outcomes, RunState state) =>
        state.KillAt is { } kill ? outcomes.Where(o => o.At <= kill && o.At + o.Took > kill).MaxBy(o => o.At + o.Took) : null;

    /// <summary>
    /// The crashes the injections asked for that must have taken effect: all but those injected on the killed worker
    /// before the kill (their countdown died with it) and those injected in the last <see cref="CrashCoolDown"/> of the
    /// operations (their account may have had no call since); the second figure is how many were left out.
    /// </summary>
    private static (int Planned, int Excused) PlannedCrashes(RunState state)
    {
        var end = state.OperationsEndedAt ?? TimeSpan.MaxValue;
        var counted = state.Injected.Where(i =>
            !(state.KillExitedAt is { } gone && i.At < gone && i.Node == state.KilledNode) && i.At < end - CrashCoolDown).ToList();
        return (counted.Sum(i => i.Times), state.Injected.Sum(i => i.Times) - counted.Sum(i => i.Times));
    }

    /// <summary>
    /// Every account has its minimal balance, is at or above it now and after every event of its journal, and its
    /// journal adds up to its balance.
    /// </summary>
    private static IEnumerable<string> CheckAccounts(AccountReply[] replies, History[] histories)
    {
        for (var i = 0; i < Accounts; i++)
        {
            var (balance, minimal) = (replies[i].Balance, Minimal(i));
            if (replies[i].MinimalBalance != minimal)
                yield return $"{Name(i)} has the minimal balance {Money(replies[i].MinimalBalance)}, opened with {Money(minimal)}";
            if (balance < minimal)
                yield return $"{Name(i)} has {Money(balance)}, below its minimal balance {Money(minimal)}";
            var money = histories[i].Events.Where(e => e.Type is "opened" or "deposited" or "withdrawn").ToList();
            foreach (var e in money.Where(e => e.Balance < minimal))
                yield return $"{Name(i)} went down to {Money(e.Balance)} at event {e.Seq} ({e.Type} {e.RequestId}), below its minimal balance {Money(minimal)}";
            if (money.Count(e => e.Type == "opened") != 1 || money.FirstOrDefault()?.Type != "opened")
                yield return $"{Name(i)}'s journal does not start with its one \"opened\" event";
            var replayed = money.Sum(e => e.Type == "withdrawn" ? -(e.Amount ?? 0m) : e.Amount ?? 0m);
            if (replayed != balance)
                yield return $"{Name(i)} answers {Money(balance)}, but its journal's opening, deposits and withdrawals add up to {Money(replayed)}";
            if (money.Count > 0 && money[^1].Balance != balance)
                yield return $"{Name(i)} answers {Money(balance)}, but its journal's last balance is {Money(money[^1].Balance)}";
        }
    }

    /// <summary>
    /// Every acknowledged operation is in the journals exactly once, a refused transfer left nothing (or a withdrawal
    /// and its refund), no request id is there twice, and none is there that this test did not send.
    /// </summary>
    private static IEnumerable<string> CheckJournal(IReadOnlyList<Outcome> outcomes, IReadOnlyList<(int Account, HistoryEntry Entry)> events)
    {
        var moves = events.Where(e => e.Entry.Type is "deposited" or "withdrawn").ToList();
        foreach (var e in moves.Where(e => e.Entry.RequestId is null))
            yield return $"{Name(e.Account)} event {e.Entry.Seq} ({e.Entry.Type} {Money(e.Entry.Amount ?? 0m)}) has no request id";
        var byId = moves.Where(e => e.Entry.RequestId is not null).ToLookup(e => e.Entry.RequestId!);
        foreach (var group in byId.Where(g => g.Count() > 1))
            yield return $"request id {group.Key} is in the journals {group.Count()} times: {Describe(group)}";

        var sent = new HashSet<string>();
        foreach (var outcome in outcomes)
        {
            var op = outcome.Op;
            if (op.IsDeposit)
            {
                sent.Add(op.Id);
                var found = byId[op.Id].ToList();
                if (outcome.Result == Result.Ok && !(found.Count == 1 && Is(found[0], op.To, "deposited", op.Amount)))
                    yield return $"acknowledged {op} is in the journals as [{Describe(found)}], not once as a deposit to {Name(op.To)}";
                continue;
            }

            string Step(string step) => $"transfer:{op.Id}:{step}";
            sent.UnionWith([Step("withdraw"), Step("deposit"), Step("refund")]);
            var withdraw = byId[Step("withdraw")].ToList();
            var deposit = byId[Step("deposit")].ToList();
            var refund = byId[Step("refund")].ToList();
            var withdrawnOnce = withdraw.Count == 1 && Is(withdraw[0], op.From, "withdrawn", op.Amount);
            var refundedOnce = refund.Count == 1 && Is(refund[0], op.From, "deposited", op.Amount);
            var journaled = $"withdraw [{Describe(withdraw)}], deposit [{Describe(deposit)}], refund [{Describe(refund)}]";
            switch (outcome.Result)
            {
                case Result.Ok when !(withdrawnOnce && deposit.Count == 1 && Is(deposit[0], op.To, "deposited", op.Amount) && refund.Count == 0):
                    yield return $"{op} was done, but the journals hold {journaled}";
                    break;
                case Result.Refused when deposit.Count != 0 || !((withdraw.Count == 0 && refund.Count == 0) || (withdrawnOnce && refundedOnce)):
                    yield return $"{op} was refused ({outcome.Detail}), but the journals hold {journaled}";
                    break;
            }
        }

        foreach (var group in byId.Where(g => !sent.Contains(g.Key)))
            yield return $"the journals hold request id {group.Key}, which this test never sent: {Describe(group)}";

        static bool Is((int Account, HistoryEntry Entry) e, int account, string type, decimal amount) =>
            e.Account == account && e.Entry.Type == type && e.Entry.Amount == amount;

        static string Describe(IEnumerable<(int Account, HistoryEntry Entry)> found) =>
            string.Join("; ", found.Select(e => $"{Name(e.Account)}#{e.Entry.Seq} {e.Entry.Type} {Money(e.Entry.Amount ?? 0m)}"));
    }

    /// <summary>A read after the chaos, sent again while the cluster does not answer, within <see cref="ReadDeadline"/>.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> read, Stopwatch clock, string what, ChaosCluster cluster)
    {
        try
        {
            var answer = await Eventually.ReadsAsync(async () =>
            {
                try
                {
                    return (Answered: true, Value: await read(), Error: (BankException?)null);
                }
                catch (BankException e) when (e.MayResendSameId)
                {
                    return (Answered: false, Value: default(T), Error: e);
                }
            }, answer => answer.Answered, what, ReadDeadline - clock.Elapsed, TimeSpan.FromMilliseconds(250), answer => answer.Error?.Message ?? "");
            return answer.Value!;
        }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException($"{what}: {e.Message}{cluster.Diagnostics()}", e);
        }
        catch (BankException e)
        {
            throw new InvalidOperationException($"{what}: {e.Kind} {e.Code}: {e.Message}{cluster.Diagnostics()}", e);
        }
    }

    /// <summary>Writes what a failed run leaves for its post-mortem into a folder of its own; returns the folder.</summary>
    private static string Dump(int seed, string run, ChaosCluster cluster, History[] histories, IReadOnlyList<Outcome> outcomes, RunState state)
    {
        var folder = Path.Combine(Path.GetTempPath(), "bank-chaos", $"{seed}-{run}");
        Directory.CreateDirectory(folder);
        foreach (var (node, i) in cluster.Nodes.Select((n, i) => (n, i)))
            File.WriteAllText(Path.Combine(folder, $"node{i}-{node.Description.Replace(' ', '-')}.log"), $"--- stdout\n{node.Stdout}\n--- stderr\n{node.Stderr}");
        File.WriteAllLines(Path.Combine(folder, "histories.txt"), histories.SelectMany(h =>
            h.Events.Select(e => $"{h.Name} {e.Seq} {e.At:HH:mm:ss.fff} {e.Type} {e.Amount} -> {e.Balance} {e.RequestId}")));
        File.WriteAllLines(Path.Combine(folder, "outcomes.txt"), outcomes.Select(o =>
            $"{o.At.TotalSeconds:0.000} {o.Op} => {o.Result} after {o.Attempts} attempt(s), {o.Took.TotalSeconds:0.000} s: {o.Detail}"));
        File.WriteAllLines(Path.Combine(folder, "injections.txt"), state.Injections);
        File.WriteAllLines(Path.Combine(folder, "chaos.txt"), state.Log);
        return folder;
    }

    private static string Seconds(TimeSpan? at) => at is { } t ? $"{t.TotalSeconds:0.0} s" : "-";

    private sealed record Op(int Index, bool IsDeposit, int From, int To, decimal Amount, string Id)
    {
        public override string ToString() => IsDeposit
            ? $"deposit #{Index} {Id} of {Money(Amount)} to {Name(To)}"
            : $"transfer #{Index} {Id} of {Money(Amount)} from {Name(From)} to {Name(To)}";
    }

    /// <summary>A crash injection the node confirmed: when, on which account, how many crashes, on which node.</summary>
    private sealed record Injection(TimeSpan At, int Account, int Times, string Node);

    private enum Result
    {
        Ok,
        Refused,
        Unexpected,
    }

    private sealed record Outcome(Op Op, Result Result, string Detail, int Attempts, TimeSpan Took)
    {
        /// <summary>When the operation was first sent, on the run's clock.</summary>
        public TimeSpan At { get; init; }
    }

    /// <summary>What the client tasks and the chaos share while they run.</summary>
    private sealed class RunState(Stopwatch clock)
    {
        public Stopwatch Clock { get; } = clock;

        public ConcurrentBag<Outcome> Outcomes { get; } = [];

        public CancellationTokenSource OperationsOver { get; } = new();

        public ConcurrentQueue<string> Log { get; } = new();

        public ConcurrentQueue<string> Injections { get; } = new();

        public ConcurrentQueue<Injection> Injected { get; } = new();

        public int Done;

        // Written by the chaos task alone, read once it has ended.
        public int CrashesInjected;
        public int CrashesRequested;
        public int CrashFailures;
        public int DoneAtKill;
        /// <summary>When the worker answered `chaos kill-node`; its process dies 300 ms later. Failover is timed from here.</summary>
        public TimeSpan? KillAt;
        public TimeSpan? KillExitedAt;
        public TimeSpan? NewWorkerUpAt;
        public string? NewWorker;
        public string? KilledNode;
        public bool KilledExited;
        public List<int> OnKilledNode = [];

        // Written once the client tasks have ended.
        public TimeSpan? OperationsEndedAt;
    }

    /// <summary>
    /// A head and two workers with fault injection on a fresh database; workers started later join the same head.
    /// Disposing kills every node still running and drops the database.
    /// </summary>
    private sealed class ChaosCluster : IAsyncDisposable
    {
        private readonly PostgresDatabase _database;
        private readonly string _connectionString;
        private readonly List<BankProcess> _workers = [];

        private ChaosCluster(PostgresDatabase database, string connectionString, BankProcess head)
        {
            _database = database;
            _connectionString = connectionString;
            Head = head;
        }

        public BankProcess Head { get; }

        /// <summary>The latest worker started.</summary>
        public BankProcess Worker
        {
            get
            {
                lock (_workers) return _workers[^1];
            }
        }

        /// <summary>The head, then every worker started, dead or alive.</summary>
        public IReadOnlyList<BankProcess> Nodes
        {
            get
            {
                lock (_workers) return [Head, .. _workers];
            }
        }

        public string NodeAddress(BankProcess node) => $"akka.tcp://bank@{node.Address}";

        /// <summary>The end of every node's output, for failure messages.</summary>
        public string Diagnostics() => string.Concat(Nodes.Select(n => n.Tail()));

        public static async Task<ChaosCluster> StartAsync(string connectionString, ITestOutputHelper output)
        {
            var clock = Stopwatch.StartNew();
            var database = await PostgresDatabase.CreateAsync(connectionString);
            var nodes = database.ConnectionString;
            ChaosCluster? cluster = null;
            try
            {
                var port = FreePort.Next();
                var head = await BankProcess.StartNodeAsync($"head on port {port}",
                    "start", "--head", "--port", port.ToString(), "--journal", "postgres", "--connection", nodes, "--allow-fault-injection");
                cluster = new ChaosCluster(database, nodes, head);
                var first = await cluster.StartWorkerAsync();
                var second = await cluster.StartWorkerAsync();
                output.WriteLine($"head {head.Address} and workers {first.Address}, {second.Address} up on database {database.Name} in {clock.Elapsed.TotalSeconds:0.0} s");
                return cluster;
            }
            catch
            {
                if (cluster is not null) await cluster.DisposeAsync();
                else await database.DisposeAsync();
                throw;
            }
        }

        /// <summary>A new worker on a new free port, joined to the head.</summary>
        public async Task<BankProcess> StartWorkerAsync()
        {
            var port = FreePort.Next();
            var worker = await BankProcess.StartNodeAsync($"worker on port {port}",
                "start", "--address", Head.Address, "--port", port.ToString(), "--journal", "postgres", "--connection", _connectionString,
                "--allow-fault-injection");
            lock (_workers) _workers.Add(worker);
            return worker;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                foreach (var node in Nodes.Reverse()) await node.DisposeAsync();
            }
            finally
            {
                await _database.DisposeAsync();
            }
        }
    }
}
