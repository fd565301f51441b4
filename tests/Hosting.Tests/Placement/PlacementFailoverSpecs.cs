using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// The placement coordinator keeps no journal: when the oldest node dies, the coordinator that starts on the next one
/// holds again what the registry's live actors hold, so nothing it reserved is lost and no node is over-committed.
/// </summary>
public sealed class PlacementFailoverSpecs
{
    [Fact]
    public async Task After_the_oldest_node_dies_the_new_coordinator_holds_what_the_live_actors_hold_and_over_commits_nothing()
    {
        await using var cluster = await InProcessCluster.StartAsync(
            ["cpu=4,gpu=0,memory=8GiB", "cpu=4,gpu=4,memory=8GiB", "cpu=4,gpu=0,memory=8GiB"], "bank.resources.pending-timeout = 3s");
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using (var first = cluster.NewSession())
        {
            var held = await first.OpenAsync("held", new AccountOptions(10m, 0m) { NumGpus = 3, Detached = true });
            Assert.Equal(gpuNode, held.Node);
        }

        await cluster.KillAsync(cluster.Seed);

        await using var session = cluster.NewSession();
        await Eventually.ReadsAsync(() => StatusOrNullAsync(session),
            status => status?.Nodes.Any(n => n.Address == gpuNode && n.Used.GetValueOrDefault("gpu") == 3m) == true,
            "the new coordinator to hold the 3 GPUs of the live actor again");
        var refused = await Assert.ThrowsAsync<BankException>(() => session.OpenAsync("too-big", new AccountOptions(1m, 0m) { NumGpus = 2 }));
        Assert.Equal((ErrorKind.ActorDied, DeathCauses.CreationFailed), (refused.Kind, refused.Code));
        var fits = await session.OpenAsync("fits", new AccountOptions(1m, 0m) { NumGpus = 1 });
        Assert.Equal(gpuNode, fits.Node);
    }

    /// <summary>What `bank status` says, or null while the singletons move to the next oldest node.</summary>
    private static async Task<ClusterStatus?> StatusOrNullAsync(BankSession session)
    {
        try
        {
            return await session.ClusterStatusAsync();
        }
        catch (BankException unreachable) when (unreachable.Kind == ErrorKind.ClusterUnreachable)
        {
            return null;
        }
    }
}
