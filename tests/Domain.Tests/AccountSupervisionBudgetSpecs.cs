using Bank.Domain;
using Xunit;
using static Bank.Domain.Tests.Supervised;

namespace Bank.Domain.Tests;

/// <summary>The supervisor's restart budget and task retries (Ray's max_restarts and max_task_retries).</summary>
public sealed class AccountSupervisionBudgetSpecs
{
    [Fact]
    public void The_first_call_starts_the_instance_here_and_waits_for_its_start()
    {
        var run = new Supervised().Call("c", new Deposit(5m));

        Assert.Equal(new StartInstanceHere(1), run.One<StartInstanceHere>());
        Assert.Empty(run.Sent);
        Assert.Equal(SupervisorMode.Restarting, run.State.Mode);

        run.Do(new InstanceStarted("inc-1", Supervision.Default, 0, false, true));

        Assert.Equal(["c"], run.Sent);
        Assert.Contains(StashEffect.GiveBack, run.Effects);
        Assert.Equal(SupervisorMode.Running, run.State.Mode);
    }

    [Fact]
    public void A_running_account_sends_a_call_at_once_and_gives_its_answer_to_the_caller()
    {
        var run = Running(new Supervision(1, 1)).Call("c", new Deposit(5m));
        var seq = run.One<SendToInstance<string>>().Seq;

        run.Do(new InstanceAnswered(seq));

        Assert.Equal("c", run.One<DeliverAnswer<string>>().Caller);
        Assert.Empty(run.State.Calls);
    }

    [Fact]
    public void A_crash_within_the_budget_restarts_and_resends_the_call_in_flight_after_recording_the_restart()
    {
        var run = Running(new Supervision(5, -1)).Call("c", new Deposit(5m, "r1")).Crash();

        Assert.Equal(new ReportRestarting("inc-1", 1, "InvalidOperationException: boom"), run.One<ReportRestarting>());
        Assert.Equal(SupervisorMode.Restarting, run.State.Mode);
        Assert.Empty(run.All<RefuseCall<string>>());
        Assert.True(run.One<LogLine>().Warning);

        run.Restart();

        Assert.Equal([nameof(RecordRestarts), "c"], run.Sent);
        Assert.Equal(new RecordRestarts(1, "InvalidOperationException: boom"), run.All<SendToInstance<string>>().First().Call.Command);
        Assert.Equal(new ReportRestartCompleted("inc-1", 1), run.One<ReportRestartCompleted>());
        Assert.Equal(1, run.State.Calls.Values.Single(c => c.Caller == "c").Retries);
    }

    [Fact]
    public void An_injected_crash_is_logged_as_information_not_as_a_warning()
    {
        var run = Running(new Supervision(1, 0)).Crash(injected: true);

        Assert.False(run.One<LogLine>().Warning);
    }

    [Fact]
    public void A_crash_with_no_restarts_left_kills_the_actor_answers_every_call_ActorDied_and_journals_the_close()
    {
        var run = Running(new Supervision(0, 0)).Call("sent", new Deposit(5m)).Crash();

        Assert.Equal(SupervisorMode.Dead, run.State.Mode);
        Assert.Equal(new DropInstance(Remote: false), run.One<DropInstance>());
        var died = run.RefusalOf("sent");
        Assert.Equal((RefusalKind.ActorDied, "MAX_RESTARTS_EXCEEDED"), (died.Kind, died.Code));
        Assert.Contains("max_restarts=0", died.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException: boom", died.Message, StringComparison.Ordinal);
        run.One<StartCloser>();
        Assert.Equal(new CloseAccount("MAX_RESTARTS_EXCEEDED", "inc-1"), run.One<SendToCloser<string>>().Call.Command);
        run.One<StartFailureReports>();
    }

    [Fact]
    public void Restarts_are_counted_up_to_max_restarts_and_the_next_crash_kills()
    {
        var run = Running(new Supervision(2, 0)).Crash().Restart().Crash().Restart();
        Assert.Equal(2, run.State.Budget.Restarts);

        run.Crash();

        Assert.Equal(SupervisorMode.Dead, run.State.Mode);
        Assert.Contains("max_restarts=2", run.State.DiedOfCrashes().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unlimited_restarts_never_run_out()
    {
        var run = Running(new Supervision(Supervision.Unlimited, 0));
        for (var i = 0; i < 100; i++) run.Crash().Restart();

        Assert.Equal(100, run.State.Budget.Restarts);
        Assert.Equal(SupervisorMode.Running, run.State.Mode);
        Assert.Equal("unlimited", run.State.Decide(new InstanceCrashed("x", false, true), T0).Effects.OfType<LogLine>().Single().Args[^1]);
    }

    [Fact]
    public void A_call_in_flight_is_retried_while_its_retries_last_then_answered_ActorDied()
    {
        var run = Running(new Supervision(-1, 1)).Call("c", new Deposit(5m)).Crash().Restart();
        Assert.Equal(["c"], run.Sent.Where(c => c == "c"));

        run.Crash();

        var failed = run.RefusalOf("c");
        Assert.Equal((RefusalKind.ActorDied, "TaskFailed"), (failed.Kind, failed.Code));
        Assert.Contains("max_task_retries=1 allows no retry", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(run.State.Calls.Values, c => c.Caller == "c");
    }

    [Fact]
    public void Without_task_retries_a_call_in_flight_fails_at_the_first_crash_while_the_actor_restarts()
    {
        var run = Running(new Supervision(3, 0)).Call("c", new Deposit(5m)).Crash();

        Assert.Equal("TaskFailed", run.RefusalOf("c").Code);
        Assert.Equal(SupervisorMode.Restarting, run.State.Mode);
    }

    [Fact]
    public void Unlimited_task_retries_resend_a_call_however_often_the_actor_crashes()
    {
        var run = Running(new Supervision(-1, -1)).Call("c", new Deposit(5m));
        for (var i = 0; i < 50; i++) run.Crash().Restart();

        Assert.Equal(50, run.State.Calls.Values.Single(c => c.Caller == "c").Retries);
        Assert.Contains("c", run.Sent);
    }

    [Fact]
    public void A_call_that_waits_during_a_restart_uses_none_of_its_retries()
    {
        var run = Running(new Supervision(-1, 0)).Crash().Call("waiting", new Deposit(5m));
        Assert.Empty(run.Sent);

        run.Crash();
        Assert.Empty(run.All<RefuseCall<string>>());

        run.Restart();
        Assert.Contains("waiting", run.Sent);
    }

    [Fact]
    public void A_late_report_of_an_instance_the_account_left_is_ignored()
    {
        var run = Running(new Supervision(0, 0)).Do(new InstanceCrashed("old", false, FromCurrentInstance: false));

        Assert.Empty(run.Effects);
        Assert.Equal(SupervisorMode.Running, run.State.Mode);
    }

    [Fact]
    public void A_new_incarnation_counts_its_restarts_from_its_journal()
    {
        var run = Running(new Supervision(5, 0)).Crash().Restart();
        Assert.Equal(1, run.State.Budget.Restarts);

        run.Do(new InstanceStarted("inc-2", new Supervision(2, 0), 0, false, true));

        Assert.Equal(("inc-2", 0, new Supervision(2, 0)), (run.State.Incarnation, run.State.Budget.Restarts, run.State.Budget.Supervision));
        Assert.DoesNotContain(nameof(RecordRestarts), run.Sent);
    }

    [Fact]
    public void Injected_crashes_strike_the_next_calls_other_than_balance_reads()
    {
        var run = Running(new Supervision(5, 5)).Do(new CrashesRequested(2));
        Assert.Equal(new ConfirmCrashes(2), run.One<ConfirmCrashes>());

        Assert.False(run.Call("read", new GetBalance()).One<SendToInstance<string>>().Crash);
        Assert.True(run.Call("first", new Deposit(1m)).One<SendToInstance<string>>().Crash);
        Assert.True(run.Call("second", new Withdraw(1m)).One<SendToInstance<string>>().Crash);
        Assert.False(run.Call("third", new Deposit(1m)).One<SendToInstance<string>>().Crash);
    }

    [Fact]
    public void Fault_injection_is_refused_when_the_node_does_not_allow_it_and_a_negative_count_arms_none()
    {
        Assert.Equal([RefuseFaultInjection.Instance], new Supervised(faults: false).Do(new CrashesRequested(1)).Effects);
        var run = Running(new Supervision(1, 0)).Do(new CrashesRequested(-3));
        Assert.Equal((new ConfirmCrashes(0), 0), (run.One<ConfirmCrashes>(), run.State.CrashesToInject));
    }
}
