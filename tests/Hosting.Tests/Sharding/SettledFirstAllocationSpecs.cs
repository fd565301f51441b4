using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Tests.Support;
using Bank.Testing;
using Xunit;

namespace Bank.Hosting.Tests.Sharding;

/// <summary>
/// Where shards go when a node dies and another has just joined (src/Hosting/Sharding): a dead node's accounts start on
/// the nodes that were up, not on the newcomer (which Akka's least-shards rule would pick, holding none); new accounts
/// may start on the newcomer at once, and moved shards reach it by rebalancing once it has settled.
/// </summary>
public sealed class SettledFirstAllocationSpecs
{
    private static readonly AccountOptions Detached = new(10m, 0m) { Detached = true };

    [Fact]
    public async Task A_dead_nodes_accounts_start_on_the_nodes_that_were_up_not_on_the_one_that_just_joined()
    {
        await using var cluster = await InProcessCluster.StartAsync(3, hocon: "bank.sharding.settle-time = 120s");
        await using var session = cluster.NewSession();
        var doomed = cluster.Nodes[2];
        var onDoomed = await OpenOnAsync(session, InProcessCluster.AddressOf(doomed), count: 3, prefix: "doomed");

        await cluster.KillAsync(doomed);
        var newcomer = await cluster.JoinAsync();

        foreach (var account in onDoomed)
        {
            Assert.Equal(10m, await session.BalanceAsync(account));
            var node = (await session.StatusAsync(account)).Node;
            Assert.NotEqual(InProcessCluster.AddressOf(newcomer), node);
            Assert.NotEqual(InProcessCluster.AddressOf(doomed), node);
        }

        // A new shard may start anywhere, the newcomer included.
        Assert.NotEmpty(await OpenOnAsync(session, InProcessCluster.AddressOf(newcomer), count: 1, prefix: "fresh"));
    }

    [Fact]
    public async Task A_node_that_joined_gets_shards_by_rebalancing_once_it_has_settled()
    {
        await using var cluster = await InProcessCluster.StartAsync(2,
            hocon: "bank.sharding.settle-time = 2s\nakka.cluster.sharding.rebalance-interval = 1s");
        await using var session = cluster.NewSession();
        var accounts = new List<ActorInfo>();
        for (var i = 0; i < 30; i++)
            accounts.Add(await session.OpenAsync($"spread-{i}-{Guid.NewGuid():N}", Detached));

        var newcomer = InProcessCluster.AddressOf(await cluster.JoinAsync());

        await Eventually.HoldsAsync(async () =>
        {
            foreach (var account in accounts)
                if ((await session.StatusAsync(account)).Node == newcomer) return true;
            return false;
        }, "an existing account moved to the newcomer by a rebalance", TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(1));
    }

    /// <summary><paramref name="count"/> new accounts whose entities run on <paramref name="node"/>: opened until they land there.</summary>
    private static async Task<List<ActorInfo>> OpenOnAsync(BankSession session, string node, int count, string prefix)
    {
        var found = new List<ActorInfo>();
        for (var i = 0; i < 200 && found.Count < count; i++)
        {
            var actor = await session.OpenAsync($"{prefix}-{i}-{Guid.NewGuid():N}", Detached);
            if ((await session.StatusAsync(actor)).Node == node) found.Add(actor);
        }

        return found.Count == count ? found : throw new InvalidOperationException($"only {found.Count} of {count} accounts landed on {node}");
    }
}
