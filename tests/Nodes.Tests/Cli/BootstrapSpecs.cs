using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 18, point 1: three `bank start --discovery config` processes with the same contact points (their management
/// endpoints on loopback) and one PostgreSQL journal form one cluster by Akka.Management's cluster bootstrap, whatever
/// the order they start in, and the oldest killed with kill -9 and started again joins the running cluster rather than
/// forming its own. Each node answers /health/ready with 200 on its own HTTP port (the README gives each its
/// --http-port). Needs BANK_TEST_POSTGRES; skipped with that reason elsewhere.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BootstrapSpecs(ITestOutputHelper output)
{
    private const int NodeCount = 3;

    [SkippableFact]
    public async Task Three_nodes_started_alike_form_one_cluster_when_the_lowest_contact_point_starts_last()
    {
        await using var cluster = await BootstrapCluster.StartAsync(PostgresDatabase.RequireConnectionString(), output, NodeCount);

        await cluster.AssertOneClusterAsync();
        // The lowest contact point forms the cluster when none is running, so it is the oldest although it started last.
        Assert.Equal(0, await cluster.OldestAsync());
    }

    [SkippableFact]
    public async Task The_oldest_killed_and_started_again_with_the_same_command_joins_the_running_cluster()
    {
        await using var cluster = await BootstrapCluster.StartAsync(PostgresDatabase.RequireConnectionString(), output, NodeCount);
        var bank = cluster.Bank(1);
        Assert.StartsWith("Actor(Account, ", await bank.OkAsync("open", "boot1", "--balance", "150"));
        Assert.Equal("175.0", await bank.OkAsync("deposit", "boot1", "25"));
        Assert.Equal(0, await cluster.OldestAsync());

        var clock = Stopwatch.StartNew();
        await cluster.Nodes[0].KillAsync();
        await cluster.Nodes[0].DisposeAsync();
        await cluster.RestartNodeAsync(0);
        output.WriteLine($"the oldest, killed and started again with the same command, was up {clock.Elapsed.TotalSeconds:0.0} s after the kill");

        // One cluster of three again: a node that formed its own would see only itself, and the others would miss it.
        await cluster.AssertOneClusterAsync();
        Assert.NotEqual(0, await cluster.OldestAsync());
        Assert.Equal("175.0", await cluster.Bank(0).OkAsync("balance", "boot1"));
        Assert.Equal("175.0", await cluster.Bank(2).OkAsync("balance", "boot1"));
    }
}
