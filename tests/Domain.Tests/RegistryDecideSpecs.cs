using Xunit;

namespace Bank.Domain.Tests;

/// <summary>The registry's rules as a pure model: <see cref="RegistryState.Decide"/> on plain values, time given.</summary>
public sealed class RegistryDecideSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private const string Node = "akka.tcp://bank@127.0.0.1:4053";

    private static OpenName Open(string name, string? key = null, bool getIfExists = false, string? owner = null,
        bool detached = true, string? requestId = null, ResourceSet? resources = null, string newKey = "new-key", string newId = "new-id") =>
        new(name, key, detached, getIfExists, owner, requestId, 0, 0, resources ?? ResourceSet.Empty, newKey, newId);

    /// <summary>Opens the actor and confirms its creation, applying what the registry decided.</summary>
    private static (RegistryState State, ActorInfo Actor) Opened(RegistryState state, OpenName open, DateTimeOffset? at = null)
    {
        state = Applied(state, state.Decide(open, at ?? Now));
        var decision = state.Decide(new ConfirmCreation(open.Name, open.NewId, Node), at ?? Now);
        return (Applied(state, decision), Assert.IsType<ActorInfo>(decision.OpenersReply));
    }

    private static RegistryState Applied(RegistryState state, RegistryDecision decision) =>
        decision.Events.Cast<object>().Concat(decision.Changes).Aggregate(state, (s, e) => s.Apply(e));

    private static RegistryRefusal Refusal(RegistryDecision decision) => Assert.IsType<RegistryRefusal>(decision.Reply);

    [Fact]
    public void A_new_name_is_reserved_and_its_account_created_at_once_when_it_holds_no_resources()
    {
        var decision = RegistryState.Empty(10).Decide(Open("Saver", owner: "client:s"), Now);

        var reserved = Assert.IsType<OpenReserved>(Assert.Single(decision.Changes)).Open;
        Assert.Equal(("Saver", "new-key", "new-id", Now, (string?)null), (reserved.Name, reserved.Key, reserved.Id, reserved.Since, reserved.Node));
        Assert.True(decision.Create);
        Assert.Empty(decision.Events);
        Assert.Null(decision.Reply);
    }

    [Fact]
    public void A_confirmed_creation_registers_the_actor_alive_on_its_node_and_frees_the_reservation()
    {
        var (state, actor) = Opened(RegistryState.Empty(10), Open("Saver", key: "k1"));

        Assert.Equal(("Saver", "k1", "new-id", ActorState.Alive, Node, Now), (actor.Name, actor.Key, actor.Id, actor.State, actor.Node, actor.CreatedAt));
        Assert.Equal(actor, state.Find("Saver"));
        Assert.Empty(state.Pending);
    }

    [Fact]
    public void A_live_name_is_taken_unless_the_open_is_get_if_exists_which_returns_the_live_actor()
    {
        var (state, actor) = Opened(RegistryState.Empty(10), Open("Saver"));

        var again = state.Decide(Open("Saver", newId: "other"), Now);
        var got = state.Decide(Open("Saver", getIfExists: true, newId: "other"), Now);

        Assert.Equal((RegistryRefusalKind.AlreadyExists, "Actor with name 'Saver' already exists"), (Refusal(again).Kind, Refusal(again).Message));
        Assert.Equal(actor, got.Reply);
        Assert.Empty(got.Changes);
    }

    [Fact]
    public void A_name_is_reserved_while_its_account_is_created_a_get_if_exists_or_a_resent_request_waits_and_another_open_is_refused()
    {
        var state = Applied(RegistryState.Empty(10), RegistryState.Empty(10).Decide(Open("Saver", requestId: "r1"), Now));

        var waiting = state.Decide(Open("Saver", getIfExists: true, newId: "x"), Now);
        var resent = state.Decide(Open("Saver", requestId: "r1", newId: "y"), Now);
        var other = state.Decide(Open("Saver", requestId: "r2", newId: "z"), Now);

        Assert.Equal((true, "Saver"), (waiting.Waits, waiting.Open));
        Assert.Equal((true, "Saver"), (resent.Waits, resent.Open));
        Assert.Equal(RegistryRefusalKind.AlreadyExists, Refusal(other).Kind);
        Assert.All(new[] { waiting, resent, other }, d => Assert.Empty(d.Changes));
    }

    [Fact]
    public void A_key_held_by_a_live_actor_or_an_open_under_way_is_refused()
    {
        var (state, _) = Opened(RegistryState.Empty(10), Open("Saver", key: "k1"));
        state = Applied(state, state.Decide(Open("Spender", key: "k2", newId: "id-2"), Now));

        var live = Refusal(state.Decide(Open("Other", key: "k1", newId: "id-3"), Now));
        var pending = Refusal(state.Decide(Open("Other", key: "k2", newId: "id-3"), Now));

        Assert.Equal(("KeyInUse", "Account key 'k1' is in use by actor 'Saver'"), (live.Code, live.Message));
        Assert.Equal(("KeyInUse", "Account key 'k2' is in use by actor 'Spender'"), (pending.Code, pending.Message));
    }

    [Theory]
    [InlineData("", null, 0, 0)]
    [InlineData("Saver", "bad key", 0, 0)]
    [InlineData("Saver", null, 0, 2)]
    public void Bad_names_keys_and_options_are_usage_errors_and_reserve_nothing(string name, string? key, int maxRestarts, int maxTaskRetries)
    {
        var open = Open(name, key) with { MaxRestarts = maxRestarts, MaxTaskRetries = maxTaskRetries };

        var decision = RegistryState.Empty(10).Decide(open, Now);

        Assert.Equal(RegistryRefusalKind.Usage, Refusal(decision).Kind);
        Assert.Empty(decision.Changes);
    }

    [Fact]
    public void An_open_that_holds_resources_waits_for_a_node_before_its_account_is_created()
    {
        var gpu = Placement.Request(numGpus: 1);

        var decision = RegistryState.Empty(10).Decide(Open("Trainer", resources: gpu), Now);
        var reserved = Assert.IsType<OpenReserved>(Assert.Single(decision.Changes)).Open;

        Assert.False(decision.Create);
        Assert.True(reserved.WaitsForNode);
        Assert.False((reserved with { Node = Node }).WaitsForNode);
    }

    [Fact]
    public void An_open_that_no_node_took_in_time_is_recorded_dead_with_CREATION_FAILED()
    {
        var state = RegistryState.Empty(10);
        state = Applied(state, state.Decide(Open("Greedy", resources: Placement.Request(numGpus: 8)), Now));

        var decision = state.Decide(new FailCreation("Greedy", "no node has it"), Now.AddSeconds(30));
        state = Applied(state, decision);

        Assert.Equal(new RegistryRefusal(RegistryRefusalKind.ActorDied, DeathCauses.CreationFailed, "no node has it"), decision.OpenersReply);
        var dead = Assert.Single(state.Dead);
        Assert.Equal((DeathCauses.CreationFailed, Now, Now.AddSeconds(30)), (dead.DeathCause, dead.CreatedAt, dead.DiedAt));
        Assert.Empty(state.Pending);
        Assert.Null(state.Find("Greedy"));
    }

    [Fact]
    public void A_kill_frees_the_name_and_the_key_closes_the_account_and_answers_with_the_dead_actor()
    {
        var (state, actor) = Opened(RegistryState.Empty(10), Open("Saver", key: "k1"));

        var decision = state.Decide(new KillName("Saver", DeathCauses.Killed, null), Now.AddMinutes(1));
        state = Applied(state, decision);

        Assert.Equal(actor with { State = ActorState.Dead, DeathCause = DeathCauses.Killed, DiedAt = Now.AddMinutes(1) }, decision.Reply);
        Assert.Equal([new AccountToClose("k1", actor.Id, "Saver", DeathCauses.Killed)], decision.Closes);
        Assert.Null(state.Find("Saver"));
        Assert.Null(state.NameUsingKey("k1"));
        // The freed name and key take a new incarnation.
        Assert.Equal("id-2", Opened(state, Open("Saver", key: "k1", newId: "id-2")).State.Find("Saver")!.Id);
    }

    [Fact]
    public void A_kill_of_an_unknown_name_or_by_a_stale_handle_changes_nothing()
    {
        var (state, actor) = Opened(RegistryState.Empty(10), Open("Saver"));

        var unknown = state.Decide(new KillName("Nobody", DeathCauses.Killed, null), Now);
        var stale = state.Decide(new KillName("Saver", DeathCauses.Killed, "an-earlier-id"), Now);

        Assert.Equal((RegistryRefusalKind.NotFound, "no actor named 'Nobody'"), (Refusal(unknown).Kind, Refusal(unknown).Message));
        Assert.Equal(RegistryRefusalKind.ActorDied, Refusal(stale).Kind);
        Assert.Contains(actor.Id, Refusal(stale).Message);
        Assert.Empty(unknown.Events.Concat(stale.Events));
    }

    [Fact]
    public void When_its_owner_ends_its_actors_die_with_OWNER_DIED_detached_ones_live_and_its_opens_under_way_are_orphaned()
    {
        var state = RegistryState.Empty(10);
        (state, var owned) = Opened(state, Open("Owned", owner: "client:a", detached: false, newId: "id-1", newKey: "k1"));
        (state, _) = Opened(state, Open("Kept", owner: "client:a", detached: true, newId: "id-2", newKey: "k2"));
        (state, _) = Opened(state, Open("Other", owner: "client:b", detached: false, newId: "id-3", newKey: "k3"));
        state = Applied(state, state.Decide(Open("Opening", owner: "client:a", detached: false, newId: "id-4", newKey: "k4"), Now));

        var decision = state.Decide(new EndOwner("client:a"), Now);
        state = Applied(state, decision);

        Assert.Equal(new OwnerActorsReleased("client:a", 1), decision.Reply);
        Assert.Equal([new AccountToClose("k1", owned.Id, "Owned", DeathCauses.OwnerDied)], decision.Closes);
        Assert.Equal(DeathCauses.OwnerDied, Assert.Single(state.Dead).DeathCause);
        Assert.NotNull(state.Find("Kept"));
        Assert.NotNull(state.Find("Other"));
        Assert.True(state.Pending["Opening"].OwnerEnded);

        // Its account answers after the owner ended: it dies as it is born, never registered.
        var born = state.Decide(new ConfirmCreation("Opening", "id-4", Node), Now);
        Assert.Equal((DeathCauses.OwnerDied, "k4"), (((RegistryRefusal)born.OpenersReply!).Code, Assert.Single(born.Closes).Key));
        Assert.Empty(born.Events);
        Assert.Empty(Applied(state, born).Pending);
    }

    [Fact]
    public void Owners_found_gone_lose_their_actors_that_are_not_detached()
    {
        var state = RegistryState.Empty(10);
        (state, _) = Opened(state, Open("Gone", owner: "client:gone", detached: false, newId: "id-1", newKey: "k1"));
        (state, _) = Opened(state, Open("Here", owner: "client:here", detached: false, newId: "id-2", newKey: "k2"));

        var decision = state.Decide(new ReleaseGoneOwners(owner => owner == "client:gone"), Now);

        var death = Assert.IsType<ActorDeathRecorded>(Assert.Single(decision.Events));
        Assert.Equal(("Gone", DeathCauses.OwnerDied, Now), (death.Name, death.Cause, death.At));
        Assert.Null(decision.Reply);
    }

    [Fact]
    public void A_restart_count_is_recorded_only_when_it_grows_and_for_the_live_incarnation()
    {
        var (state, actor) = Opened(RegistryState.Empty(10), Open("Crashy", key: "k1"));

        var first = state.Decide(new CompleteRestart("k1", actor.Id, 2), Now);
        state = Applied(state, first);

        Assert.Equal(2, state.Find("Crashy")!.Restarts);
        Assert.Empty(state.Decide(new CompleteRestart("k1", actor.Id, 1), Now).Events);
        Assert.Empty(state.Decide(new CompleteRestart("k1", "an-earlier-id", 5), Now).Events);
    }

    [Fact]
    public void An_actor_out_of_restarts_dies_with_MAX_RESTARTS_EXCEEDED_and_its_count()
    {
        var (state, actor) = Opened(RegistryState.Empty(10), Open("Fragile", key: "k1"));

        state = Applied(state, state.Decide(new ExhaustRestarts("k1", actor.Id, 3), Now));

        var dead = Assert.Single(state.Dead);
        Assert.Equal((DeathCauses.MaxRestartsExceeded, 3), (dead.DeathCause, dead.Restarts));
        Assert.Empty(state.Decide(new ExhaustRestarts("k1", actor.Id, 4), Now).Events);
    }

    [Fact]
    public void Only_the_newest_deaths_up_to_keep_dead_are_kept_when_actors_are_killed()
    {
        var state = RegistryState.Empty(keepDead: 2);
        for (var i = 0; i < 4; i++)
        {
            (state, _) = Opened(state, Open($"A{i}", newId: $"id-{i}", newKey: $"k{i}"));
            state = Applied(state, state.Decide(new KillName($"A{i}", DeathCauses.Killed, null), Now));
        }

        Assert.Equal(["A2", "A3"], state.Dead.Select(a => a.Name));
    }
}

/// <summary>The registry's small helpers: answers to resent requests, when to snapshot, owners' liveness, restarts shown.</summary>
public sealed class RegistryBookkeepingSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void A_resent_request_id_gets_the_first_answer_until_it_is_among_the_oldest_forgotten()
    {
        var replies = new RecentReplies<string>(capacity: 2);
        replies.Add("r1", "first");
        replies.Add("r1", "second");
        replies.Add(null, "no id");

        Assert.Equal("first", replies.Find("r1"));
        Assert.Null(replies.Find(null));
        replies.Add("r2", "two");
        replies.Add("r3", "three");
        Assert.Null(replies.Find("r1"));
        Assert.Equal(("two", "three"), (replies.Find("r2"), replies.Find("r3")));
    }

    [Theory]
    [InlineData(0, 0, 4, false)]
    [InlineData(0, 0, 5, true)]
    [InlineData(5, 12, 16, false)]
    [InlineData(5, 12, 17, true)]
    public void A_snapshot_is_due_after_every_events_or_as_many_as_the_last_one_held(long last, int size, long now, bool due)
    {
        var policy = new RegistrySnapshotPolicy(Every: 5).Taken(last, size);

        Assert.Equal(due, policy.IsDue(now));
    }

    [Fact]
    public void A_client_owner_is_gone_after_the_owner_timeout_without_heartbeats_counted_from_the_registry_start()
    {
        var start = TimeSpan.FromMinutes(3);
        var owners = new SessionOwners(TimeSpan.FromSeconds(10), startedAt: start);
        var client = SessionOwners.OfClient("s1");
        var members = new HashSet<string>();

        Assert.False(owners.IsGone(client, start + TimeSpan.FromSeconds(10), members));
        Assert.True(owners.IsGone(client, start + TimeSpan.FromSeconds(11), members));
        owners.Heartbeat(client, start + TimeSpan.FromSeconds(9));
        Assert.False(owners.IsGone(client, start + TimeSpan.FromSeconds(19), members));
        Assert.True(owners.IsGone(client, start + TimeSpan.FromSeconds(20), members));
        Assert.True(owners.IsGone("someone:else", start, members));
    }

    [Fact]
    public void A_node_owner_is_gone_when_that_life_of_its_node_is_no_member()
    {
        var owners = new SessionOwners(TimeSpan.FromSeconds(10), TimeSpan.Zero);
        const string node = "akka.tcp://bank@127.0.0.1:4053#42";
        var owner = SessionOwners.OfNode(node, "session-1");

        Assert.Equal(node, SessionOwners.NodeOf(owner));
        Assert.False(owners.IsGone(owner, TimeSpan.Zero, new HashSet<string> { node }));
        Assert.True(owners.IsGone(owner, TimeSpan.Zero, new HashSet<string> { "akka.tcp://bank@127.0.0.1:4053#43" }));
    }

    [Fact]
    public void A_restarting_actor_is_shown_RESTARTING_with_the_newer_count_for_a_while_at_most()
    {
        var board = new RestartBoard();
        var actor = new ActorInfo("A", "k", "id", ActorState.Alive, null, true, null, "node", 1, Now, null);
        var at = TimeSpan.FromMinutes(5);
        board.Restarting("id", 2, at);

        var second = at + TimeSpan.FromSeconds(1);
        Assert.Equal((ActorState.Restarting, 2), (board.Show(actor, second).State, board.Show(actor, second).Restarts));
        Assert.Equal(actor, board.Show(actor, at + RestartBoard.ShownFor));
        board.Done("id");
        Assert.Equal(actor, board.Show(actor, second));
    }
}
