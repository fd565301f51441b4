using System.Collections.Concurrent;
using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Pools;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Ray's ActorPool over Akka actors and over Bank accounts: results in order or as they complete, work queued for busy
/// actors, a dead actor dropped and its work retried within max_retries, an application error kept as the result.
/// Every ordering is set by gates the test opens, never by waiting.
/// </summary>
public class ActorPoolSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long a test waits for something that should come at once, before it fails instead of hanging.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Map_yields_results_in_the_order_of_the_values_even_when_later_values_finish_first()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(3));
        var gates = new Gates(3);
        var finished = new Gates(3);
        var ask = ActorPool.Ask<Job, Done>(AskTimeout);

        await using var results = pool.Map(async (worker, job) =>
        {
            var done = await ask(worker, job);
            finished.Open(job.Value);
            return done;
        }, gates.Jobs).GetAsyncEnumerator();
        var first = results.MoveNextAsync();
        gates.Open(2);
        await finished[2].WaitAsync(Patience);
        gates.Open(1);
        await finished[1].WaitAsync(Patience);

        Assert.False(first.IsCompleted);
        gates.Open(0);
        var yielded = new List<Done>();
        for (var next = first; await next.AsTask().WaitAsync(Patience); next = results.MoveNextAsync())
            yielded.Add(results.Current);

        Assert.Equal([0, 1, 2], yielded.Select(done => done.Value));
        Assert.Equal(3, yielded.Select(done => done.Worker).Distinct().Count());
        Assert.False(pool.HasNext());
    }

    [Fact]
    public async Task MapUnordered_yields_each_result_as_soon_as_its_work_completes()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(3));
        var gates = new Gates(3);

        await using var results = pool.MapUnordered(gates.Jobs, AskTimeout).GetAsyncEnumerator();
        var yielded = new List<int>();
        foreach (var value in new[] { 2, 0, 1 })
        {
            gates.Open(value);
            Assert.True(await results.MoveNextAsync().AsTask().WaitAsync(Patience));
            yielded.Add(results.Current.Value);
        }

        Assert.Equal([2, 0, 1], yielded);
        Assert.False(await results.MoveNextAsync());
    }

    [Fact]
    public async Task Map_forgets_the_results_submitted_before_it_as_Rays_does()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(2));
        pool.Submit(new Job(0), AskTimeout);

        var mapped = await ListAsync(pool.Map([new Job(1), new Job(2)], AskTimeout));

        Assert.Equal([1, 2], mapped.Select(done => done.Value));
        Assert.False(pool.HasNext());
    }

    [Fact]
    public async Task Submitted_work_is_fetched_in_submission_order_whatever_order_it_finishes_in()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(3));
        var gates = new Gates(3);
        foreach (var job in gates.Jobs)
            pool.Submit(job, AskTimeout);

        gates.Open(2);
        gates.Open(1);
        gates.Open(0);
        var fetched = new List<int>();
        while (pool.HasNext())
            fetched.Add((await pool.GetNextAsync(Patience)).Value);

        Assert.Equal([0, 1, 2], fetched);
        await Assert.ThrowsAsync<InvalidOperationException>(() => pool.GetNextAsync());
    }

    [Fact]
    public async Task GetNext_that_times_out_leaves_the_result_next_in_line_for_a_later_call()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(2));
        var gates = new Gates(2);
        pool.Submit(gates.Job(0), AskTimeout);
        pool.Submit(gates.Job(1), AskTimeout);
        gates.Open(1);

        await Assert.ThrowsAsync<TimeoutException>(() => pool.GetNextAsync(TimeSpan.FromMilliseconds(100)));
        await Assert.ThrowsAsync<TimeoutException>(() => pool.GetNextAsync(TimeSpan.Zero));

        Assert.True(pool.HasNext());
        gates.Open(0);
        Assert.Equal(0, (await pool.GetNextAsync(Patience)).Value);
        Assert.Equal(1, (await pool.GetNextAsync(Patience)).Value);
        Assert.False(pool.HasNext());
    }

    [Fact]
    public async Task GetNextUnordered_returns_whichever_result_completes_first()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(3));
        var gates = new Gates(3);
        foreach (var job in gates.Jobs)
            pool.Submit(job, AskTimeout);

        gates.Open(1);
        Assert.Equal(1, (await pool.GetNextUnorderedAsync(Patience)).Value);
        await Assert.ThrowsAsync<TimeoutException>(() => pool.GetNextUnorderedAsync(TimeSpan.FromMilliseconds(100)));
        gates.Open(2);
        Assert.Equal(2, (await pool.GetNextUnorderedAsync(Patience)).Value);
        gates.Open(0);
        Assert.Equal(0, (await pool.GetNextAsync(Patience)).Value);

        Assert.False(pool.HasNext());
        await Assert.ThrowsAsync<InvalidOperationException>(() => pool.GetNextUnorderedAsync());
    }

    [Fact]
    public async Task HasNext_and_HasFree_follow_submitted_queued_and_fetched_work()
    {
        var pool = new ActorPool<IActorRef, Done>(Workers(1));
        var gates = new Gates(2);
        Assert.Equal((false, true), (pool.HasNext(), pool.HasFree()));

        pool.Submit(gates.Job(0), AskTimeout);
        Assert.Equal((true, false), (pool.HasNext(), pool.HasFree()));
        pool.Submit(gates.Job(1), AskTimeout);
        Assert.Equal((true, false), (pool.HasNext(), pool.HasFree()));

        gates.Open(0);
        gates.Open(1);
        Assert.Equal(0, (await pool.GetNextAsync(Patience)).Value);
        Assert.True(pool.HasNext());
        Assert.Equal(1, (await pool.GetNextAsync(Patience)).Value);
        Assert.Equal((false, true), (pool.HasNext(), pool.HasFree()));
    }

    [Fact]
    public async Task PopIdle_takes_an_idle_actor_out_and_Push_puts_one_in_where_queued_work_starts()
    {
        var a = Worker();
        var b = Worker();
        var pool = new ActorPool<IActorRef, Done>([a, b]);
        var gates = new Gates(2);

        Assert.Same(b, pool.PopIdle());
        Assert.Equal([a], pool.Actors);
        pool.Submit(gates.Job(0), AskTimeout);
        Assert.Null(pool.PopIdle());
        pool.Submit(gates.Job(1), AskTimeout);

        pool.Push(b);
        gates.Open(1);
        var second = await pool.GetNextUnorderedAsync(Patience);
        Assert.Equal((1, b), (second.Value, second.Worker));
        gates.Open(0);
        var first = await pool.GetNextAsync(Patience);
        Assert.Equal((0, a), (first.Value, first.Worker));

        Assert.Same(a, pool.PopIdle());
        Assert.Same(b, pool.PopIdle());
        Assert.Null(pool.PopIdle());
        Assert.Empty(pool.Actors);
    }

    [Fact]
    public async Task Pushing_an_actor_that_is_already_in_the_pool_is_an_error()
    {
        var a = Worker();
        var pool = new ActorPool<IActorRef, Done>([a, Worker()]);
        var gates = new Gates(1);

        var idle = Assert.Throws<ArgumentException>(() => pool.Push(a));
        pool.Submit(gates.Job(0), AskTimeout);
        var busy = Assert.Throws<ArgumentException>(() => pool.Push(a));
        var twice = Assert.Throws<ArgumentException>(() => new ActorPool<IActorRef, Done>([a, a]));

        Assert.All([idle, busy, twice], error => Assert.Contains("already belongs to this ActorPool", error.Message));
        Assert.Equal(2, pool.Actors.Count);
        gates.Open(0);
        Assert.Equal(a, (await pool.GetNextAsync(Patience)).Worker);

        // An account handle fetched again is the same actor when it names the same incarnation.
        var handle = Handle("pooled", "id-1");
        var accounts = new ActorPool<ActorInfo, decimal>([handle]);
        Assert.Throws<ArgumentException>(() => accounts.Push(handle with { Node = "elsewhere", Restarts = 1 }));
        accounts.Push(Handle("pooled", "id-2"));
        Assert.Equal(2, accounts.Actors.Count);
    }

    [Fact]
    public async Task A_dead_actor_is_dropped_and_its_work_is_retried_on_another()
    {
        var mortal = Worker(Mode.StopsItself);
        var gone = Worker();
        await StopAsync(gone);
        var survivor = Worker();
        var pool = new ActorPool<IActorRef, Done>([mortal, gone, survivor]);

        pool.Submit(new Job(0), AskTimeout);
        var done = await pool.GetNextAsync(Patience);

        Assert.Equal((0, survivor), (done.Value, done.Worker));
        Assert.Equal([survivor], pool.Actors);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Retries_of_work_whose_actor_died_are_bounded_by_max_retries(int maxRetries)
    {
        var mortals = Workers(maxRetries + 1, Mode.StopsItself);
        var survivor = Worker();
        var pool = new ActorPool<IActorRef, Done>([.. mortals, survivor], maxRetries);

        pool.Submit(new Job(0), AskTimeout);
        var error = await Assert.ThrowsAsync<ActorTerminatedException>(() => pool.GetNextAsync(Patience));

        Assert.Equal(mortals[^1], error.Actor);
        Assert.Equal([survivor], pool.Actors);
        pool.Submit(new Job(1), AskTimeout);
        Assert.Equal(survivor, (await pool.GetNextAsync(Patience)).Worker);
    }

    [Fact]
    public async Task Unlimited_retries_go_on_until_an_actor_answers_or_none_is_left()
    {
        var survivor = Worker();
        var pool = new ActorPool<IActorRef, Done>([.. Workers(5, Mode.StopsItself), survivor], ActorPool.UnlimitedRetries);
        pool.Submit(new Job(0), AskTimeout);
        Assert.Equal(survivor, (await pool.GetNextAsync(Patience)).Worker);
        Assert.Equal([survivor], pool.Actors);

        var doomed = new ActorPool<IActorRef, Done>(Workers(2, Mode.StopsItself), ActorPool.UnlimitedRetries);
        var gates = new Gates(3);
        doomed.Submit(gates.Job(0), AskTimeout);
        doomed.Submit(gates.Job(1), AskTimeout);
        doomed.Submit(gates.Job(2), AskTimeout);
        gates.Open(0);
        gates.Open(1);
        gates.Open(2);

        await Assert.ThrowsAsync<ActorTerminatedException>(() => doomed.GetNextAsync(Patience));
        await Assert.ThrowsAsync<ActorTerminatedException>(() => doomed.GetNextAsync(Patience));
        await Assert.ThrowsAsync<ActorTerminatedException>(() => doomed.GetNextAsync(Patience));
        Assert.Empty(doomed.Actors);
        // Work submitted after the last actor died fails at once instead of waiting for one.
        doomed.Submit(new Job(3), AskTimeout);
        await Assert.ThrowsAsync<ActorTerminatedException>(() => doomed.GetNextAsync(Patience));
    }

    [Fact]
    public async Task An_application_error_is_the_result_at_once_and_the_actor_stays_in_the_pool()
    {
        var worker = Worker();
        var pool = new ActorPool<IActorRef, Done>([worker], ActorPool.UnlimitedRetries);

        pool.Submit(new Job(0, Reject: true), AskTimeout);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pool.GetNextAsync(Patience));
        Assert.Equal("job 0 rejected", error.Message);
        Assert.Equal([worker], pool.Actors);

        // A slow actor is not a dead one: its ask times out, and it stays.
        var gate = new Gates(1);
        pool.Submit(ActorPool.Ask<Job, Done>(TimeSpan.FromMilliseconds(200)), gate.Job(0));
        await Assert.ThrowsAsync<AskTimeoutException>(() => pool.GetNextAsync(Patience));
        Assert.Equal([worker], pool.Actors);
        gate.Open(0);
        pool.Submit(new Job(1), AskTimeout);
        var answered = await pool.GetNextAsync(Patience);
        Assert.Equal((1, worker), (answered.Value, answered.Worker));
    }

    [Fact]
    public async Task Deposits_mapped_over_three_accounts_are_exact_when_one_is_killed_mid_run()
    {
        await using var session = NewSession();
        var a = await session.OpenAsync(Unique("pool-a"), new AccountOptions(0m, 0m));
        var b = await session.OpenAsync(Unique("pool-b"), new AccountOptions(0m, 0m));
        var c = await session.OpenAsync(Unique("pool-c"), new AccountOptions(0m, 0m));
        var pool = new ActorPool<ActorInfo, decimal>([a, b, c]);
        var amounts = Enumerable.Range(1, 12).Select(amount => (decimal)amount).ToList();
        var aOnItsSecondCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callsToA = 0;
        var calls = new ConcurrentQueue<(string Account, decimal Amount)>();

        var balances = pool.Map(async (account, amount) =>
        {
            calls.Enqueue((account.Name, amount));
            if (account.Name != a.Name)
                await aOnItsSecondCall.Task; // b and c hold their first calls, so that a surely gets a second one
            else if (Interlocked.Increment(ref callsToA) == 2)
            {
                aOnItsSecondCall.SetResult();
                await killed.Task;
            }
            return await session.DepositAsync(account, amount);
        }, amounts);
        await aOnItsSecondCall.Task.WaitAsync(Patience);
        await session.KillAsync(a.Name);
        killed.SetResult();

        Assert.Equal(12, (await ListAsync(balances)).Count);
        var depositedToA = (await session.HistoryAsync(a.Name)).Events.Where(e => e.Type == "deposited").Sum(e => e.Amount);
        Assert.Equal(1m, depositedToA);
        Assert.Equal(amounts.Sum(), depositedToA + await session.BalanceAsync(b) + await session.BalanceAsync(c));
        Assert.Contains((a.Name, 4m), calls);
        Assert.Single(calls, call => call.Account != a.Name && call.Amount == 4m);
        Assert.Equal(new[] { b.Id, c.Id }.Order(), pool.Actors.Select(actor => actor.Id).Order());
    }

    [Fact]
    public async Task An_overdraft_is_not_retried_and_its_account_stays_in_the_pool()
    {
        await using var session = NewSession();
        var a = await session.OpenAsync(Unique("pool-a"), new AccountOptions(10m, 0m));
        var b = await session.OpenAsync(Unique("pool-b"), new AccountOptions(10m, 0m));
        var pool = new ActorPool<ActorInfo, decimal>([a, b]);
        var calls = new ConcurrentQueue<string>();
        Func<ActorInfo, decimal, Task<decimal>> withdraw = (account, amount) =>
        {
            calls.Enqueue(account.Name);
            return session.WithdrawAsync(account, amount);
        };

        pool.Submit(withdraw, 50m);
        var error = await Assert.ThrowsAsync<BankException>(() => pool.GetNextAsync(Patience));

        Assert.Equal(ErrorKind.RuleViolation, error.Kind);
        Assert.Equal("Withdrawal is not supported by current balance", error.Message);
        Assert.Equal([a.Name], calls);
        Assert.Equal(2, pool.Actors.Count);
        Assert.Equal([5m, 5m], await ListAsync(pool.Map(withdraw, [5m, 5m])));
    }

    [Fact]
    public async Task Calls_to_killed_accounts_are_retried_at_most_max_retries_times()
    {
        await using var session = NewSession();
        var a = await session.OpenAsync(Unique("pool-a"), new AccountOptions(10m, 0m));
        var b = await session.OpenAsync(Unique("pool-b"), new AccountOptions(10m, 0m));
        var c = await session.OpenAsync(Unique("pool-c"), new AccountOptions(10m, 0m));
        await session.KillAsync(a.Name);
        await session.KillAsync(b.Name);
        var pool = new ActorPool<ActorInfo, decimal>([a, b, c], maxRetries: 1);
        var calls = new ConcurrentQueue<string>();

        pool.Submit((account, amount) =>
        {
            calls.Enqueue(account.Name);
            return session.DepositAsync(account, amount);
        }, 5m);
        var error = await Assert.ThrowsAsync<BankException>(() => pool.GetNextAsync(Patience));

        Assert.Equal(ErrorKind.ActorDied, error.Kind);
        Assert.Equal([a.Name, b.Name], calls);
        Assert.Equal([c], pool.Actors);
        Assert.Equal(10m, await session.BalanceAsync(c));
    }

    private IActorRef Worker(Mode mode = Mode.Answers) => Sys.ActorOf(Props.Create(() => new PoolWorker(mode)));

    private List<IActorRef> Workers(int count, Mode mode = Mode.Answers) =>
        Enumerable.Range(0, count).Select(_ => Worker(mode)).ToList();

    private static ActorInfo Handle(string name, string id) =>
        new(name, "key", id, ActorState.Alive, null, false, null, "node", 0, DateTimeOffset.UnixEpoch, null);

    private static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> results)
    {
        using var patience = new CancellationTokenSource(Patience);
        var list = new List<T>();
        await foreach (var result in results.WithCancellation(patience.Token))
            list.Add(result);
        return list;
    }

    public enum Mode
    {
        Answers,
        StopsItself,
    }

    /// <summary>A value for a pool worker: it answers when <paramref name="Gate"/> opens, or rejects it.</summary>
    public sealed record Job(int Value, Task? Gate = null, bool Reject = false);

    public sealed record Done(IActorRef Worker, int Value);

    /// <summary>One gate per value, opened by the test: what decides the order in which work finishes.</summary>
    private sealed class Gates(int count)
    {
        private readonly TaskCompletionSource[] _gates = Enumerable.Range(0, count)
            .Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();

        public IEnumerable<Job> Jobs => Enumerable.Range(0, _gates.Length).Select(Job);

        public Task this[int value] => _gates[value].Task;

        public Job Job(int value) => new(value, _gates[value].Task);

        public void Open(int value) => _gates[value].SetResult();
    }

    /// <summary>A pool's actor: waits for the job's gate, then answers, rejects, or stops without answering.</summary>
    private sealed class PoolWorker : ReceiveActor
    {
        public PoolWorker(Mode mode)
        {
            ReceiveAsync<Job>(async job =>
            {
                if (job.Gate is not null)
                    await job.Gate;
                if (mode == Mode.StopsItself)
                    Context.Stop(Self);
                else if (job.Reject)
                    Sender.Tell(new Status.Failure(new InvalidOperationException($"job {job.Value} rejected")));
                else
                    Sender.Tell(new Done(Self, job.Value));
            });
        }
    }
}
