using Bank.Domain;
using Xunit;
using static Bank.Domain.Tests.Supervised;

namespace Bank.Domain.Tests;

/// <summary>Where an account's instance runs: placed by the registry for its resources, moved, drained, lost with its node.</summary>
public sealed class AccountSupervisionPlacementSpecs
{
    private static readonly Dictionary<string, decimal> Gpu = new() { ["GPU"] = 1m };

    /// <summary>An account that holds resources, opened on the node the registry chose for it, with no call held.</summary>
    private static Supervised Placed(bool registry = true) => new Supervised(registry)
        .Call("opener", new OpenAccount(10m, 0m, "inc-1", 1, 0, Gpu), placement: There)
        .Do(new InstanceStartedThere(1, SenderIsInstance: false))
        .Do(new InstanceStarted("inc-1", new Supervision(1, 0), 0, HoldsResources: true, FromCurrentInstance: true))
        .Do(new InstanceAnswered(1));

    [Fact]
    public void A_placed_open_starts_its_instance_through_the_host_of_the_chosen_node_and_runs_there()
    {
        var run = new Supervised().Call("opener", new OpenAccount(10m, 0m, "inc-1", 1, 0, Gpu), placement: There);
        Assert.Equal(new StartInstanceThere(There, 1), run.One<StartInstanceThere>());
        Assert.False(run.State.Instance.Running);

        run.Do(new InstanceStartedThere(1, SenderIsInstance: false));
        Assert.Equal([AdoptStartedInstance.Instance, StashEffect.GiveBack], run.Effects);

        run.Do(new InstanceStarted("inc-1", Supervision.Default, 0, true, true));
        Assert.Equal(["opener"], run.Sent);
        Assert.Equal(There, run.State.Instance.Node);
    }

    [Fact]
    public void A_start_reported_before_the_host_answered_waits_in_the_stash()
    {
        var run = new Supervised().Call("opener", new OpenAccount(10m, 0m, "inc-1"), placement: There)
            .Do(new InstanceStarted("inc-1", Supervision.Default, 0, true, true));

        Assert.Equal([StashEffect.Keep], run.Effects);
    }

    [Fact]
    public void An_instance_of_a_stale_generation_is_stopped_and_a_stale_timeout_ignored()
    {
        var run = new Supervised().Call("opener", new OpenAccount(10m, 0m, "inc-1"), placement: There)
            .Do(new StartThereTimedOut(1, NodeUp: true));
        Assert.Equal(new StartInstanceThere(There, 2), run.One<StartInstanceThere>());

        Assert.Equal([StopSender.Instance], run.Do(new InstanceStartedThere(1, SenderIsInstance: false)).Effects);
        Assert.Empty(run.Do(new StartThereTimedOut(1, NodeUp: false)).Effects);
        Assert.Equal(2, run.State.Instance.Generation);
    }

    [Fact]
    public void When_the_chosen_node_is_gone_before_it_started_the_instance_the_placed_open_is_told_to_try_again()
    {
        var run = new Supervised().Call("opener", new OpenAccount(10m, 0m, "inc-1"), placement: There)
            .Do(new StartThereTimedOut(1, NodeUp: false));

        var lost = run.RefusalOf("opener");
        Assert.Equal((RefusalKind.ClusterUnreachable, "PlacementLost"), (lost.Kind, lost.Code));
        Assert.Empty(run.State.Calls);
    }

    [Fact]
    public void An_account_that_holds_resources_asks_the_registry_where_to_run_when_it_wakes_and_ignores_answers_for_other_incarnations()
    {
        var run = Placed().Do(new InstanceStopped(NodeLost: true));
        Assert.Equal(new AskWhereToRun("inc-1", null), run.One<AskWhereToRun>());
        Assert.Equal(T0, run.State.Placement.AskingSince);

        Assert.Empty(run.Do(new PlacementAnswered("inc-0", Here)).Effects);

        run.Do(new PlacementAnswered("inc-1", Here));
        Assert.Equal([StopAskingWhereToRun.Instance, new StartInstanceHere(2)], run.Effects);
    }

    [Fact]
    public void Calls_in_flight_when_the_node_is_lost_are_resent_where_the_account_runs_next()
    {
        var run = Placed().Call("c", new Deposit(5m, "r1")).Do(new InstanceStopped(NodeLost: true));
        Assert.Empty(run.All<RefuseCall<string>>());

        run.Do(new PlacementAnswered("inc-1", Here)).Restart();

        Assert.Equal(["c"], run.Sent);
        Assert.Equal(0, run.State.Calls.Values.Single().Retries);
    }

    [Fact]
    public void While_no_node_fits_calls_wait_until_the_pending_timeout_then_fail_with_PendingCreation()
    {
        var run = Placed().Do(new InstanceStopped(NodeLost: true))
            .Do(new PlacementPendingReported("inc-1", "no node has GPU=1 free"))
            .Call("early", new Deposit(1m), at: T0 + TimeSpan.FromSeconds(10));
        Assert.Empty(run.All<RefuseCall<string>>());

        run.Call("late", new Deposit(1m), at: T0 + PendingTimeout);

        Assert.Equal(["early", "late"], run.All<RefuseCall<string>>().Select(r => r.Caller));
        Assert.Equal(("PendingCreation", "no node has GPU=1 free"), (run.RefusalOf("late").Code, run.RefusalOf("late").Message));
    }

    [Fact]
    public void A_pending_wait_is_timed_from_this_supervisors_first_ask_and_a_repeated_report_keeps_its_start()
    {
        var run = Placed().Do(new InstanceStopped(NodeLost: true), at: T0)
            .Do(new PlacementPendingReported("inc-1", "no node has GPU=1 free"), at: T0 + TimeSpan.FromSeconds(25))
            .Do(PlacementAskDue.Instance, at: T0 + TimeSpan.FromSeconds(26))
            .Do(new PlacementPendingReported("inc-1", "no node has GPU=1 free"), at: T0 + TimeSpan.FromSeconds(26))
            .Call("early", new Deposit(1m), at: T0 + TimeSpan.FromSeconds(29));
        Assert.Empty(run.All<RefuseCall<string>>());

        run.Do(PlacementAskDue.Instance, at: T0 + PendingTimeout);

        Assert.Equal("PendingCreation", run.RefusalOf("early").Code);
    }

    [Fact]
    public void Calls_do_not_wait_for_ever_on_a_registry_that_does_not_answer()
    {
        var run = Placed().Do(new InstanceStopped(NodeLost: true)).Call("c", new Deposit(1m), at: T0 + TimeSpan.FromSeconds(1));
        Assert.Empty(run.All<RefuseCall<string>>());

        run.Do(PlacementAskDue.Instance, at: T0 + PendingTimeout);

        Assert.StartsWith("the registry did not say where account 'k' runs within 30 s", run.RefusalOf("c").Message, StringComparison.Ordinal);
        run.One<AskWhereToRun>();
    }

    [Fact]
    public void A_move_waits_for_the_calls_in_flight()
    {
        var run = Running(new Supervision(1, 0)).Call("c", new Deposit(5m)).Call("opener", new OpenAccount(1m, 0m, "inc-2", 0, 0, Gpu), placement: There);
        Assert.Empty(run.All<StopInstance>());

        run.Do(new InstanceAnswered(run.State.Calls.Keys.First()));
        Assert.Equal(new StopInstance(Remote: false), run.One<StopInstance>());

        run.Do(new InstanceStopped(NodeLost: false));
        Assert.Equal(new StartInstanceThere(There, 2), run.One<StartInstanceThere>());
    }

    [Fact]
    public void A_released_instance_moves_and_its_node_is_not_chosen_again()
    {
        var run = Placed().Do(new InstanceReleased(There));
        Assert.Equal(new StopInstance(Remote: true), run.One<StopInstance>());

        run.Do(new InstanceStopped(NodeLost: false));

        Assert.Equal(new AskWhereToRun("inc-1", There), run.One<AskWhereToRun>());
    }

    [Fact]
    public void Without_a_registry_an_account_that_holds_resources_runs_here()
    {
        var run = Placed(registry: false).Do(new InstanceStopped(NodeLost: true));

        Assert.Equal(new StartInstanceHere(2), run.One<StartInstanceHere>());
    }

    [Fact]
    public void An_instance_that_stops_unasked_failed_its_journal_a_call_it_held_may_be_written_and_is_resent_with_its_id()
    {
        var run = Running(new Supervision(1, 0)).Call("c", new Deposit(5m)).Do(new InstanceStopped(NodeLost: false));

        Assert.Equal(("JournalWriteFailed", RefusalKind.ClusterUnreachable), (run.RefusalOf("c").Code, run.RefusalOf("c").Kind));
        Assert.Equal(StopSelf.Instance, run.Effects[^1]);
    }

    [Fact]
    public void An_instance_that_failed_its_recovery_tells_the_calls_still_waiting_that_nothing_was_written()
    {
        var run = new Supervised()
            .Call("opener", new OpenAccount(10m, 0m, "inc-1", 1, 0))
            .Call("c", new Deposit(5m));
        Assert.DoesNotContain("c", run.Sent);

        run.Do(new InstanceStopped(NodeLost: false));

        Assert.Equal(("JournalUnavailable", RefusalKind.ClusterUnreachable), (run.RefusalOf("c").Code, run.RefusalOf("c").Kind));
        Assert.Equal(StopSelf.Instance, run.Effects[^1]);
    }

    [Fact]
    public void Draining_stops_at_once_when_no_call_is_held()
    {
        Assert.Equal([StopSelf.Instance], Running(new Supervision(1, 0)).Do(StopRequested.Instance).Effects);
    }

    [Fact]
    public void Draining_waits_for_the_calls_in_flight_then_stops()
    {
        var run = Running(new Supervision(1, 0)).Call("c", new Deposit(5m)).Do(StopRequested.Instance);
        Assert.Empty(run.Effects);

        run.Do(new InstanceAnswered(run.State.Calls.Keys.Single()));

        Assert.Equal([new DeliverAnswer<string>("c"), StopSelf.Instance], run.Effects);
    }

    [Fact]
    public void Draining_while_waiting_for_a_node_answers_Moving_or_hands_the_calls_back_to_the_shard_that_passivates()
    {
        var handOff = Placed().Do(new InstanceStopped(NodeLost: true)).Call("c", new Deposit(1m)).Do(StopRequested.Instance);
        Assert.Equal(("Moving", "account 'k' is moving; try again"), (handOff.RefusalOf("c").Code, handOff.RefusalOf("c").Message));
        Assert.Equal(StopSelf.Instance, handOff.Effects[^1]);

        var passivated = Placed().Do(new InstanceStopped(NodeLost: true)).Call("c", new Deposit(1m))
            .Do(PassivationRequested.Instance).Do(StopRequested.Instance);
        Assert.Equal([new ReturnToShard<string>("c"), StopSelf.Instance], passivated.Effects);
    }

    [Fact]
    public void An_instance_that_stops_while_draining_answers_its_calls_Moving()
    {
        var run = Placed().Call("c", new Deposit(1m)).Do(StopRequested.Instance).Do(new InstanceStopped(NodeLost: true));

        Assert.Equal("Moving", run.RefusalOf("c").Code);
        Assert.Equal(StopSelf.Instance, run.Effects[^1]);
    }

    [Fact]
    public void A_probe_goes_to_a_ready_instance_and_waits_for_one_otherwise()
    {
        Assert.Equal([ForwardToInstance.Instance], Running(new Supervision()).Do(ProbeArrived.Instance).Effects);
        Assert.Equal([StashEffect.Keep, new StartInstanceHere(1)], new Supervised().Do(ProbeArrived.Instance).Effects);
    }
}
