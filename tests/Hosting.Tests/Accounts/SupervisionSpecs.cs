using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Ray's max_restarts and max_task_retries (issue 4, DESIGN.md section 5): every account runs under a BackoffSupervisor
/// that restarts it after a crash while its restarts last, resends the calls that were in flight while their retries
/// last, and applies a resent call once. Crashes are injected with `bank chaos crash`: the account throws after its
/// events are journaled and before it answers.
/// </summary>
public class SupervisionSpecs(FaultInjectionFixture fixture) : BankNodeSpec<FaultInjectionFixture>(fixture)
{
    private static AccountOptions Options(decimal balance, int maxRestarts, int maxTaskRetries, string? key = null) =>
        new(balance, 0m) { Detached = true, MaxRestarts = maxRestarts, MaxTaskRetries = maxTaskRetries, Key = key };

    [Fact]
    public async Task Within_its_restarts_an_actor_survives_crashes_keeps_its_balance_and_applies_the_retried_deposit_once()
    {
        await using var session = NewSession();
        var name = Unique("retry");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 5, maxTaskRetries: -1));
        await session.CrashAsync(name, 3);
        var requestId = Unique("deposit");

        var balance = await session.DepositAsync(account, 50m, requestId);

        Assert.Equal(150m, balance);
        var status = await session.StatusAsync(account);
        Assert.Equal(3, status.Restarts);
        var history = await session.HistoryAsync(name);
        Assert.Single(history.Events, e => e.RequestId == requestId);
        Assert.Equal(3, history.Events.Count(e => e.Type == "restarted"));
        await AwaitAssertAsync(async () =>
        {
            var listed = await ListedAsync(session, name);
            Assert.Equal(ActorState.Alive, listed.State);
            Assert.Equal(3, listed.Restarts);
        });
    }

    [Fact]
    public async Task An_actor_without_restarts_dies_of_its_first_crash_with_MAX_RESTARTS_EXCEEDED_and_calls_fail_with_ActorDied()
    {
        await using var session = NewSession();
        var name = Unique("fragile");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 0, maxTaskRetries: 0));
        await session.CrashAsync(name, 1);

        var crashed = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(account, 5m));

        Assert.Equal(ErrorKind.ActorDied, crashed.Kind);
        Assert.Contains("max_restarts=0", crashed.Message, StringComparison.Ordinal);
        await AwaitAssertAsync(async () =>
        {
            var listed = await ListedAsync(session, name);
            Assert.Equal(ActorState.Dead, listed.State);
            Assert.Equal(DeathCauses.MaxRestartsExceeded, listed.DeathCause);
        });
        var later = await Assert.ThrowsAsync<BankException>(() => session.BalanceAsync(account));
        Assert.Equal(ErrorKind.ActorDied, later.Kind);
        var byName = await Assert.ThrowsAsync<BankException>(() => session.GetActorAsync(name));
        Assert.Equal(ErrorKind.ActorNotFound, byName.Kind);
    }

    [Fact]
    public async Task When_its_restarts_are_used_up_the_actor_is_dead_with_the_restarts_it_had()
    {
        await using var session = NewSession();
        var name = Unique("worn");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 2, maxTaskRetries: -1));
        await session.CrashAsync(name, 3);

        var died = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(account, 5m));

        Assert.Equal(ErrorKind.ActorDied, died.Kind);
        Assert.Equal(DeathCauses.MaxRestartsExceeded, died.Code);
        await AwaitAssertAsync(async () =>
        {
            var listed = await ListedAsync(session, name);
            Assert.Equal(ActorState.Dead, listed.State);
            Assert.Equal(DeathCauses.MaxRestartsExceeded, listed.DeathCause);
            Assert.Equal(2, listed.Restarts);
        });
    }

    [Fact]
    public async Task Without_task_retries_the_call_in_flight_fails_with_ActorDied_the_actor_restarts_and_a_resend_applies_nothing_twice()
    {
        await using var session = NewSession();
        var name = Unique("noretry");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 1, maxTaskRetries: 0));
        await session.CrashAsync(name, 1);
        var requestId = Unique("deposit");

        var failed = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(account, 50m, requestId));

        Assert.Equal(ErrorKind.ActorDied, failed.Kind);
        Assert.Equal("TaskFailed", failed.Code);
        // The crash struck after the deposit was journaled: resending it under its id returns that outcome, once.
        Assert.Equal(150m, await session.DepositAsync(account, 50m, requestId));
        Assert.Equal(150m, await session.BalanceAsync(account));
        Assert.Equal(1, (await session.StatusAsync(account)).Restarts);
    }

    [Fact]
    public async Task Task_retries_are_counted_per_call()
    {
        await using var session = NewSession();
        var name = Unique("oneretry");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 5, maxTaskRetries: 1));
        await session.CrashAsync(name, 2);

        // First crash: retried once. Second crash, on the retry: no retries left for this call.
        var failed = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(account, 10m));

        Assert.Equal("TaskFailed", failed.Code);
        Assert.Equal(110m, await session.DepositAsync(account, 0m));
        Assert.Equal(2, (await session.StatusAsync(account)).Restarts);
    }

    [Fact]
    public async Task Rule_violations_are_answers_not_failures_and_use_up_no_restarts()
    {
        await using var session = NewSession();
        var name = Unique("rules");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 1, maxTaskRetries: 1));
        for (var i = 0; i < 3; i++)
        {
            var refused = await Assert.ThrowsAsync<BankException>(() => session.WithdrawAsync(account, 1000m));
            Assert.Equal(ErrorKind.RuleViolation, refused.Kind);
        }

        Assert.Equal(0, (await session.StatusAsync(account)).Restarts);
        // The one restart is still there to be used.
        await session.CrashAsync(name, 1);
        Assert.Equal(105m, await session.DepositAsync(account, 5m));
        Assert.Equal(1, (await session.StatusAsync(account)).Restarts);
    }

    [Fact]
    public async Task The_restart_count_is_journaled_so_a_fresh_instance_of_the_account_does_not_start_over()
    {
        await using var session = NewSession();
        var name = Unique("durable");
        var account = await session.OpenAsync(name, Options(100m, maxRestarts: 1, maxTaskRetries: -1));
        await session.CrashAsync(name, 1);
        Assert.Equal(101m, await session.DepositAsync(account, 1m));

        // The entity goes (as on passivation or a move to another node); the next call wakes a fresh one from the journal.
        await StopEntityAsync(account.Key);
        Assert.Equal(1, (await session.StatusAsync(account)).Restarts);
        await session.CrashAsync(name, 1);

        var died = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(account, 1m));
        Assert.Equal(DeathCauses.MaxRestartsExceeded, died.Code);
    }

    [Fact]
    public async Task A_name_reopened_on_the_key_of_an_actor_that_died_of_crashes_gets_its_balance_and_a_fresh_budget()
    {
        await using var session = NewSession();
        var name = Unique("phoenix");
        var key = Unique("key");
        var first = await session.OpenAsync(name, Options(100m, maxRestarts: 0, maxTaskRetries: 0, key));
        await session.CrashAsync(name, 1);
        await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(first, 20m));
        await AwaitAssertAsync(async () => Assert.Equal(ActorState.Dead, (await ListedAsync(session, name)).State));

        var second = await session.OpenAsync(name, Options(0m, maxRestarts: 1, maxTaskRetries: -1, key));

        Assert.NotEqual(first.Id, second.Id);
        // The crash struck after the deposit was journaled, so it is part of the state.
        Assert.Equal(120m, await session.BalanceAsync(second));
        await session.CrashAsync(name, 1);
        Assert.Equal(121m, await session.DepositAsync(second, 1m));
        var old = await Assert.ThrowsAsync<BankException>(() => session.BalanceAsync(first));
        Assert.Equal(ErrorKind.ActorDied, old.Kind);
    }

    [Theory]
    [InlineData(0, 1, "max_task_retries cannot be set if max_restarts is 0.")]
    [InlineData(0, -1, "max_task_retries cannot be set if max_restarts is 0.")]
    [InlineData(-2, 0, "max_restarts must be -1 (unlimited) or a number from 0, not -2")]
    [InlineData(3, -5, "max_task_retries must be -1 (unlimited) or a number from 0, not -5")]
    public async Task Supervision_options_that_cannot_work_are_refused_as_usage_errors(int maxRestarts, int maxTaskRetries, string message)
    {
        await using var session = NewSession();

        var refused = await Assert.ThrowsAsync<BankException>(() =>
            session.OpenAsync(Unique("bad"), Options(1m, maxRestarts, maxTaskRetries)));

        Assert.Equal(ErrorKind.Usage, refused.Kind);
        Assert.Equal(message, refused.Message);
        // The registry refuses them too, for clients that do not check.
        NameRegistry.Tell(new OpenActor(Unique("bad"), null, 1m, 0m, true, false, null, null, maxRestarts, maxTaskRetries), TestActor);
        var rejected = await ExpectMsgAsync<Rejected>();
        Assert.Equal((ErrorKind.Usage, message), (rejected.Kind, rejected.Message));
    }

    private static async Task<ActorInfo> ListedAsync(BankSession session, string name) =>
        (await session.ListAsync()).Last(a => a.Name == name);

    /// <summary>Stops the account's sharded entity; the shard starts a fresh one on the next message.</summary>
    private async Task StopEntityAsync(string key)
    {
        var entity = await Sys.ActorSelection($"/system/sharding/{BankConstants.AccountShardType}/*/{key}")
            .ResolveOne(TimeSpan.FromSeconds(5));
        Watch(entity);
        entity.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(entity);
        Unwatch(entity);
    }
}

/// <summary>An actor being restarted shows as RESTARTING, and calls made meanwhile wait for it.</summary>
public class RestartingStateSpecs(SlowRestartFixture fixture) : BankNodeSpec<SlowRestartFixture>(fixture)
{
    [Fact]
    public async Task While_its_supervisor_backs_off_the_actor_is_RESTARTING_and_then_ALIVE_with_one_restart()
    {
        await using var session = NewSession();
        var name = Unique("slow");
        var account = await session.OpenAsync(name, new AccountOptions(10m, 0m) { Detached = true, MaxRestarts = 1, MaxTaskRetries = 1 });
        await session.CrashAsync(name, 1);

        var deposit = session.DepositAsync(account, 5m);

        await AwaitAssertAsync(async () =>
        {
            var listed = (await session.ListAsync()).Single(a => a.Name == name);
            Assert.Equal(ActorState.Restarting, listed.State);
            Assert.Equal(1, listed.Restarts);
        }, TimeSpan.FromSeconds(2.5));
        Assert.Equal(15m, await deposit);
        await AwaitAssertAsync(async () =>
            Assert.Equal(ActorState.Alive, (await session.ListAsync()).Single(a => a.Name == name).State));
    }

    [Fact]
    public async Task A_hand_off_during_the_backoff_answers_the_waiting_call_after_the_restart_and_then_stops_the_entity()
    {
        await using var session = NewSession();
        var name = Unique("handoff");
        var account = await session.OpenAsync(name, new AccountOptions(10m, 0m) { Detached = true, MaxRestarts = 1, MaxTaskRetries = 1 });
        await session.CrashAsync(name, 1);
        var deposit = session.DepositAsync(account, 5m);
        await AwaitAssertAsync(async () =>
            Assert.Equal(ActorState.Restarting, (await session.ListAsync()).Single(a => a.Name == name).State), TimeSpan.FromSeconds(2.5));
        var entity = await Sys.ActorSelection($"/system/sharding/{BankConstants.AccountShardType}/*/{account.Key}")
            .ResolveOne(TimeSpan.FromSeconds(5));
        Watch(entity);

        // What the shard sends its entities on a hand-off (and on passivation).
        entity.Tell(AccountSupervisor.StopWhenIdle.Instance);

        Assert.Equal(15m, await deposit);
        await ExpectTerminatedAsync(entity, TimeSpan.FromSeconds(5));
    }
}

/// <summary>Fault injection is for tests and demos: a node started without --allow-fault-injection refuses it.</summary>
public class FaultInjectionRefusalSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public async Task Chaos_crash_is_refused_with_a_clear_message_and_the_actor_is_untouched()
    {
        await using var session = NewSession();
        var name = Unique("safe");
        var account = await session.OpenAsync(name, new AccountOptions(10m, 0m) { Detached = true });

        var refused = await Assert.ThrowsAsync<BankException>(() => session.CrashAsync(name, 1));

        Assert.Equal(ErrorKind.Usage, refused.Kind);
        Assert.Contains("start the nodes with --allow-fault-injection", refused.Message, StringComparison.Ordinal);
        Assert.Equal(11m, await session.DepositAsync(account, 1m));
    }

    [Fact]
    public async Task Chaos_kill_node_is_refused_with_a_clear_message_and_the_node_lives()
    {
        await using var session = NewSession();
        var self = Akka.Cluster.Cluster.Get(Sys).SelfAddress;

        var refused = await Assert.ThrowsAsync<BankException>(() => session.KillNodeAsync($"{self.Host}:{self.Port}"));

        Assert.Equal(ErrorKind.Usage, refused.Kind);
        Assert.Contains("--allow-fault-injection", refused.Message, StringComparison.Ordinal);
        Assert.False(Sys.WhenTerminated.IsCompleted);
    }
}
