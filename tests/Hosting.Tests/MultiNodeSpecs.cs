using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Several actor systems in one process form one cluster (issue 3): accounts are sharded over both nodes, the registry
/// of names is one table whichever node asks, and a node that leaves hands its accounts to the other one.
/// </summary>
public sealed class MultiNodeSpecs(TwoNodeClusterFixture fixture) : BankNodeSpec<TwoNodeClusterFixture>(fixture)
{
    private static readonly AccountOptions Hundred = new(100m, 0m);

    /// <summary>Outlives the sessions that open it: for the tests that are not about lifetimes.</summary>
    private static readonly AccountOptions DetachedHundred = Hundred with { Detached = true };

    /// <summary>The seed: the registry runs here.</summary>
    private RunningNode A => Fixture.Cluster.Nodes[0];

    private RunningNode B => Fixture.Cluster.Nodes[1];

    [Fact]
    public async Task Accounts_opened_through_one_node_are_spread_over_both_nodes()
    {
        await using var session = Fixture.Cluster.NewSession(A);

        var nodes = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            var actor = await session.OpenAsync(Unique("spread"), DetachedHundred);
            nodes.Add((await session.StatusAsync(actor)).Node);
        }

        Assert.Equal(new HashSet<string> { InProcessCluster.AddressOf(A), InProcessCluster.AddressOf(B) }, nodes);
    }

    [Fact]
    public async Task An_account_answers_the_same_balance_whichever_node_calls_it()
    {
        await using var onA = Fixture.Cluster.NewSession(A);
        await using var onB = Fixture.Cluster.NewSession(B);
        var actor = await onA.OpenAsync(Unique("both"), DetachedHundred);

        Assert.Equal(125m, await onB.DepositAsync(actor, 25m));
        Assert.Equal(120m, await onA.WithdrawAsync(actor, 5m));

        Assert.Equal(120m, await onB.BalanceAsync(actor));
        Assert.Equal(120m, await onA.BalanceAsync(actor));
    }

    [Fact]
    public async Task An_actor_opened_on_one_node_is_found_by_name_on_the_other_and_its_name_is_taken_there()
    {
        await using var onA = Fixture.Cluster.NewSession(A);
        await using var onB = Fixture.Cluster.NewSession(B);
        var name = Unique("shared");
        var opened = await onA.OpenAsync(name, DetachedHundred);

        var found = await onB.GetActorAsync(name);
        Assert.Equal(opened.Id, found.Id);
        Assert.Equal(opened.Key, found.Key);

        var error = await Assert.ThrowsAsync<BankException>(() => onB.OpenAsync(name, Hundred));
        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.Equal($"Actor with name '{name}' already exists", error.Message);

        var existing = await onB.OpenAsync(name, Hundred with { GetIfExists = true });
        Assert.Equal(opened.Id, existing.Id);
    }

    [Fact]
    public async Task An_actor_killed_from_one_node_is_gone_on_the_other()
    {
        await using var onA = Fixture.Cluster.NewSession(A);
        await using var onB = Fixture.Cluster.NewSession(B);
        var name = Unique("victim");
        var handle = await onA.OpenAsync(name, DetachedHundred);

        var killed = await onB.KillAsync(name);

        Assert.Equal(ActorState.Dead, killed.State);
        Assert.Equal(DeathCauses.Killed, killed.DeathCause);
        var notFound = await Assert.ThrowsAsync<BankException>(() => onA.GetActorAsync(name));
        Assert.Equal(ErrorKind.ActorNotFound, notFound.Kind);
        Assert.Equal($"no actor named '{name}'", notFound.Message);
        var died = await Assert.ThrowsAsync<BankException>(() => onA.BalanceAsync(handle));
        Assert.Equal(ErrorKind.ActorDied, died.Kind);
    }

    [Fact]
    public async Task Two_sessions_on_different_nodes_racing_to_open_one_name_create_it_once()
    {
        await using var onA = Fixture.Cluster.NewSession(A);
        await using var onB = Fixture.Cluster.NewSession(B);

        // Several names race at once, so that either node may win some of them.
        var names = Enumerable.Range(0, 5).Select(_ => Unique("race")).ToList();
        var races = await Task.WhenAll(names.Select(async name =>
            (Name: name, Outcomes: await Task.WhenAll(OutcomeAsync(onA.OpenAsync(name, DetachedHundred)), OutcomeAsync(onB.OpenAsync(name, DetachedHundred))))));

        foreach (var (name, outcomes) in races)
        {
            var created = Assert.Single(outcomes, o => o.Actor is not null);
            var refused = Assert.Single(outcomes, o => o.Error is not null);
            Assert.Equal(ErrorKind.AlreadyExists, refused.Error!.Kind);
            Assert.Equal($"Actor with name '{name}' already exists", refused.Error.Message);
            Assert.Equal(created.Actor!.Id, (await onA.GetActorAsync(name)).Id);
            Assert.Equal(created.Actor.Id, (await onB.GetActorAsync(name)).Id);
        }
    }

    [Fact]
    public async Task When_a_node_leaves_its_accounts_answer_from_the_other_node_with_their_balances()
    {
        // A cluster of its own: this test takes a node away.
        await using var cluster = await InProcessCluster.StartAsync(nodes: 2);
        var (nodeA, nodeB) = (cluster.Nodes[0], cluster.Nodes[1]);
        var addressA = InProcessCluster.AddressOf(nodeA);
        var addressB = InProcessCluster.AddressOf(nodeB);
        await using var onA = cluster.NewSession(nodeA);
        var balances = new Dictionary<ActorInfo, decimal>();
        for (var i = 0; i < 12; i++)
        {
            var actor = await onA.OpenAsync(Unique("mover"), DetachedHundred);
            var reply = await onA.StatusAsync(actor);
            if (reply.Node == addressB)
                balances[actor] = await onA.DepositAsync(actor, i + 1);
        }

        Assert.NotEmpty(balances);

        await cluster.LeaveAsync(nodeB);

        await AwaitAssertAsync(async () =>
        {
            foreach (var (actor, balance) in balances)
            {
                // Each try is short, so that a call caught in the hand-off does not use up the whole wait.
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var reply = await onA.StatusAsync(actor, attempt.Token);
                Assert.Equal(balance, reply.Balance);
                Assert.Equal(addressA, reply.Node);
            }
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task When_a_node_leaves_the_actors_of_its_sessions_die_with_OWNER_DIED_and_detached_ones_live_on()
    {
        await using var cluster = await InProcessCluster.StartAsync(nodes: 2);
        var (nodeA, nodeB) = (cluster.Nodes[0], cluster.Nodes[1]);
        await using var onA = cluster.NewSession(nodeA);
        // Never disposed: its node leaves under it.
        var onB = cluster.NewSession(nodeB);
        var owned = await onB.OpenAsync(Unique("owned-by-b"), Hundred);
        var detached = await onB.OpenAsync(Unique("detached-from-b"), DetachedHundred);

        await cluster.LeaveAsync(nodeB);

        await AwaitAssertAsync(async () =>
        {
            var dead = Assert.Single(await onA.ListAsync(), a => a.Name == owned.Name);
            Assert.Equal(ActorState.Dead, dead.State);
            Assert.Equal(DeathCauses.OwnerDied, dead.DeathCause);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500));
        Assert.Equal(ActorState.Alive, Assert.Single(await onA.ListAsync(), a => a.Name == detached.Name).State);
        Assert.Equal(100m, await onA.BalanceAsync(detached));
        var died = await Assert.ThrowsAsync<BankException>(() => onA.BalanceAsync(owned));
        Assert.Equal(ErrorKind.ActorDied, died.Kind);
    }

    [Fact]
    public async Task Actors_of_sessions_on_nodes_that_stay_up_stay_alive_and_only_the_leaving_nodes_die()
    {
        await using var cluster = await InProcessCluster.StartAsync(nodes: 2);
        var (nodeA, nodeB) = (cluster.Nodes[0], cluster.Nodes[1]);
        await using var onA = cluster.NewSession(nodeA);
        var onB = cluster.NewSession(nodeB);
        var ownedByA = await onA.OpenAsync(Unique("owned-by-a"), Hundred);
        var ownedByB = await onB.OpenAsync(Unique("owned-by-b"), Hundred);

        // Both nodes are up through two of the registry's owner checks (bank.client.heartbeat-interval, 2 s).
        await Holds.ForAsync(TimeSpan.FromSeconds(5), async () =>
        {
            var actors = await onA.ListAsync();
            Assert.Equal(ActorState.Alive, Assert.Single(actors, a => a.Name == ownedByA.Name).State);
            Assert.Equal(ActorState.Alive, Assert.Single(actors, a => a.Name == ownedByB.Name).State);
        });

        await cluster.LeaveAsync(nodeB);

        await AwaitAssertAsync(async () =>
        {
            var dead = Assert.Single(await onA.ListAsync(), a => a.Name == ownedByB.Name);
            Assert.Equal(DeathCauses.OwnerDied, dead.DeathCause);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500));
        Assert.Equal(ActorState.Alive, Assert.Single(await onA.ListAsync(), a => a.Name == ownedByA.Name).State);
        Assert.Equal(100m, await onA.BalanceAsync(ownedByA));
    }

    private static async Task<(ActorInfo? Actor, BankException? Error)> OutcomeAsync(Task<ActorInfo> open)
    {
        try
        {
            return (await open, null);
        }
        catch (BankException error)
        {
            return (null, error);
        }
    }
}
