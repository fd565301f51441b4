using Akka.Cluster;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;
using Bank.Hosting.Tests.Support;
using Bank.Testing;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Bank's Petabridge.Cmd-style inspection on a two-node cluster (issue 7): what runs where, and is it healthy.
/// Asked through node A's gateway, as a client connected to A would.
/// </summary>
public sealed class InspectionSpecs(TwoNodeClusterFixture fixture) : IClassFixture<TwoNodeClusterFixture>
{
    private readonly InProcessCluster _cluster = fixture.Cluster;

    private string AddressA => InProcessCluster.AddressOf(_cluster.Nodes[0]);

    private string AddressB => InProcessCluster.AddressOf(_cluster.Nodes[1]);

    [Fact]
    public async Task Cluster_show_lists_both_members_up_and_reachable_with_one_leader_and_the_seed_as_oldest()
    {
        await using var session = _cluster.NewSession();

        var view = await session.ClusterViewAsync();

        Assert.Equal(AddressA, view.Node);
        Assert.Equal(new[] { AddressA, AddressB }.Order(StringComparer.Ordinal),
            view.Members.Select(m => m.Address));
        Assert.All(view.Members, m =>
        {
            Assert.Equal("Up", m.Status);
            Assert.True(m.Reachable);
            Assert.NotNull(m.UpSince);
        });
        Assert.Single(view.Members, m => m.Leader);
        Assert.Equal(AddressA, Assert.Single(view.Members, m => m.Oldest).Address);
    }

    [Fact]
    public async Task Shards_count_each_nodes_regions_and_list_the_entity_ids_where_the_accounts_run()
    {
        await using var session = _cluster.NewSession();
        var actors = new List<ActorInfo>();
        for (var i = 0; i < 6; i++)
            actors.Add(await session.OpenAsync($"shards-{Guid.NewGuid():N}", new AccountOptions(1m, 0m) { Detached = true }));
        var where = new Dictionary<string, string>();
        foreach (var actor in actors)
            where[actor.Key] = (await session.StatusAsync(actor)).Node;

        var view = await session.ShardsAsync(BankConstants.AccountShardType, entities: true);

        Assert.Equal(new[] { AddressA, AddressB }.Order(StringComparer.Ordinal),
            view.Regions.Select(r => r.Node).Order(StringComparer.Ordinal));
        foreach (var region in view.Regions)
        {
            Assert.Equal(BankConstants.AccountShardType, region.Type);
            var ids = region.Detail!.SelectMany(s => s.EntityIds).ToList();
            Assert.Equal(region.Entities, ids.Count);
            Assert.Equal(region.Shards, region.Detail!.Count);
            // Every account lives in the region of the node that says it runs it.
            foreach (var (key, node) in where)
                Assert.Equal(node == region.Node, ids.Contains(key));
        }
    }

    [Fact]
    public async Task Shards_without_a_type_cover_accounts_and_transfers_on_every_node()
    {
        await using var session = _cluster.NewSession();

        var view = await session.ShardsAsync();

        Assert.Equal(4, view.Regions.Count);
        Assert.Equal(2, view.Regions.Count(r => r.Type == BankConstants.TransferShardType));
        Assert.All(view.Regions, r => Assert.Null(r.Detail));
    }

    [Fact]
    public async Task Actor_hierarchy_shows_a_nodes_user_actors_and_can_be_asked_of_the_other_node()
    {
        await using var session = _cluster.NewSession();

        var onA = await session.ActorTreeAsync("/user", depth: 1);
        var onB = await session.ActorTreeAsync("/user", depth: 1, node: InProcessCluster.HostPortOf(_cluster.Nodes[1]));

        Assert.Equal(AddressA, onA.Node);
        Assert.Equal(AddressB, onB.Node);
        Assert.Equal("/user", onA.Root.Path);
        Assert.Contains(onA.Root.Children, c => c.Name == "bank-gateway");
        Assert.Contains(onA.Root.Children, c => c.Name == Inspector.Name);
        Assert.Contains(onB.Root.Children, c => c.Name == "bank-gateway");
    }

    [Fact]
    public async Task Actor_hierarchy_of_a_path_or_node_that_does_not_exist_is_ActorNotFound()
    {
        await using var session = _cluster.NewSession();

        var noPath = await Assert.ThrowsAsync<BankException>(() => session.ActorTreeAsync("/user/nobody-here"));
        var noNode = await Assert.ThrowsAsync<BankException>(() => session.ActorTreeAsync("/user", node: "127.0.0.1:1"));

        Assert.Equal(ErrorKind.ActorNotFound, noPath.Kind);
        Assert.Equal(ErrorKind.ActorNotFound, noNode.Kind);
        Assert.Contains("no member at 127.0.0.1:1", noNode.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Down_unreachable_with_everyone_reachable_downs_nobody_and_tail_starts_with_both_members_up()
    {
        await using var session = _cluster.NewSession();

        var changed = await session.ChangeMembershipAsync(ChangeMembership.DownUnreachable, null);
        var events = await session.MembershipEventsAsync(0);

        Assert.Empty(changed.Addresses);
        Assert.Equal(2, Akka.Cluster.Cluster.Get(_cluster.Seed.System).State.Members.Count(m => m.Status == MemberStatus.Up));
        Assert.Contains(events.Events, e => e.Kind == "up" && e.Address == AddressA);
        Assert.Contains(events.Events, e => e.Kind == "up" && e.Address == AddressB);
        Assert.Equal(events.Events.Max(e => e.Seq), events.Last);
    }
}

/// <summary>Membership changes through inspection: a member asked to leave goes, and tail reports it as it happens.</summary>
public sealed class MembershipChangeSpecs
{
    [Fact]
    public async Task Cluster_leave_makes_the_member_leave_and_tail_reports_it_left_and_was_removed()
    {
        await using var cluster = await InProcessCluster.StartAsync(nodes: 2);
        await using var session = cluster.NewSession();
        var before = await session.MembershipEventsAsync(0);

        var addressB = InProcessCluster.AddressOf(cluster.Nodes[1]);

        var changed = await session.ChangeMembershipAsync(ChangeMembership.Leave, InProcessCluster.HostPortOf(cluster.Nodes[1]));

        Assert.Equal([addressB], changed.Addresses);
        var seen = new List<MembershipEvent>();
        var after = before.Last;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!seen.Any(e => e.Kind == "removed"))
        {
            var next = await session.MembershipEventsAsync(after, limit.Token);
            seen.AddRange(next.Events);
            after = next.Last;
        }

        Assert.All(seen, e => Assert.Equal(addressB, e.Address));
        Assert.Equal(["left", "exited", "removed"], seen.Select(e => e.Kind).Where(k => k is "left" or "exited" or "removed"));
        // The view is read from whichever node answers; the one that left may still see itself Exiting for a gossip round.
        await Eventually.HoldsAsync(async () => (await session.ClusterViewAsync()).Members.Count == 1, "one member left in the view");
    }

    [Fact]
    public async Task Cluster_down_of_an_unknown_address_is_ActorNotFound_and_changes_nothing()
    {
        await using var cluster = await InProcessCluster.StartAsync(nodes: 2);
        await using var session = cluster.NewSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.ChangeMembershipAsync(ChangeMembership.Down, "127.0.0.1:1"));

        Assert.Equal(ErrorKind.ActorNotFound, refused.Kind);
        Assert.Equal(2, (await session.ClusterViewAsync()).Members.Count);
    }
}
