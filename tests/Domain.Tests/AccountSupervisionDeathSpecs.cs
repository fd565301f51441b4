using Bank.Domain;
using Xunit;
using static Bank.Domain.Tests.Supervised;

namespace Bank.Domain.Tests;

/// <summary>A dead incarnation: answered ActorDied, closed by a last instance, recorded by the registry, then passivated.</summary>
public sealed class AccountSupervisionDeathSpecs
{
    private static Supervised Dead(bool registry = true) => Running(new Supervision(0, 0), registry).Crash();

    private static Supervised Closed(Supervised run) => run.Do(new InstanceAnswered(run.State.Calls.Keys.Single()));

    [Fact]
    public void A_dead_account_answers_every_call_ActorDied_and_a_fault_injection_too()
    {
        var run = Dead().Call("c", new Deposit(1m));
        Assert.Equal(RefusalKind.ActorDied, run.RefusalOf("c").Kind);

        Assert.Equal("MAX_RESTARTS_EXCEEDED", run.Do(new CrashesRequested(1)).One<RefuseSender>().Refusal.Code);
    }

    [Fact]
    public void It_passivates_once_the_close_is_journaled_and_the_registry_recorded_the_death()
    {
        var run = Closed(Dead());
        Assert.Equal([StashEffect.GiveBack], run.Effects);

        Assert.Empty(run.Do(new FailureRecorded("inc-0")).Effects);
        run.Do(new FailureRecorded("inc-1"));

        Assert.Equal([StopFailureReports.Instance, AskShardToPassivate.Instance], run.Effects);
    }

    [Fact]
    public void It_tells_the_registry_of_the_death_until_the_registry_answers()
    {
        var report = Dead().Do(FailureReportDue.Instance).One<ReportFailure>();

        Assert.Equal(new ReportFailure("inc-1", 0, "InvalidOperationException: boom"), report);
    }

    [Fact]
    public void Without_a_registry_it_passivates_as_soon_as_the_close_is_journaled()
    {
        var run = Dead(registry: false);
        Assert.Empty(run.All<StartFailureReports>());

        Assert.Contains(AskShardToPassivate.Instance, Closed(run).Effects);
    }

    [Fact]
    public void Refunds_and_questions_about_applied_calls_wait_for_the_close_then_the_closed_account_answers_them()
    {
        var run = Dead().Call("refund", new Refund(5m, "transfer:t:refund"));
        Assert.Equal([StashEffect.Keep], run.Effects);

        Closed(run).Call("refund", new Refund(5m, "transfer:t:refund"));
        var send = run.One<SendToCloser<string>>();
        Assert.Equal("refund", send.Call.Caller);

        run.Do(new InstanceAnswered(send.Seq));
        Assert.Equal(new DeliverAnswer<string>("refund"), run.Effects[0]);
    }

    [Fact]
    public void An_open_of_a_new_incarnation_waits_for_the_close_then_goes_to_the_next_entity()
    {
        var open = new OpenAccount(10m, 0m, "inc-2");
        var run = Dead().Call("opener", open);
        Assert.Equal([StashEffect.Keep], run.Effects);

        Closed(run).Call("opener", open);

        Assert.Equal([AskShardToPassivate.Instance, new ReturnToShard<string>("opener")], run.Effects);
        run.Call("refund", new Refund(1m, "r"));
        Assert.Equal([new ReturnToShard<string>("refund")], run.Effects);
    }

    [Fact]
    public void When_the_closer_fails_before_the_close_is_journaled_the_callers_try_again_and_the_entity_stops()
    {
        var run = Dead().Do(CloserStopped.Instance);

        Assert.Equal([StashEffect.Drop, StopSelf.Instance], run.Effects);
        Assert.Empty(Closed(Dead()).Do(CloserStopped.Instance).Effects);
    }

    [Fact]
    public void Late_news_of_its_instance_is_ignored_and_an_instance_a_host_started_late_is_stopped()
    {
        var run = Dead();

        Assert.Empty(run.Do(new InstanceCrashed("x", false, true)).Effects);
        Assert.Empty(run.Do(new PlacementAnswered("inc-1", There)).Effects);
        Assert.Equal([StopSender.Instance], run.Do(new InstanceStartedThere(5, false)).Effects);
        Assert.Equal([StopSelf.Instance], run.Do(StopRequested.Instance).Effects);
    }
}
