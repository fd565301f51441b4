using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Hosting.Tests.Client;

/// <summary>
/// The client half of failover: when the node a client talks to dies, the calls it had in flight go again at once (same
/// ids) through another node, instead of waiting out their attempt's timeout (5 s) and Akka's ClusterClient's own
/// detection of a dead node (about 15 s).
/// </summary>
public sealed class ContactLossSpecs(ITestOutputHelper output)
{
    /// <summary>The bound this spec asserts: well under one attempt's timeout (bank.client.ask-timeout over its attempts, 5 s).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Calls_in_flight_when_the_clients_node_dies_complete_through_another_node_well_before_their_timeout()
    {
        // Three nodes: with two, killing the oldest would make the survivor down itself too (keep-oldest, hocon/cluster.hocon).
        await using var cluster = await InProcessCluster.StartAsync(3);
        // The client half alone: its node is never the oldest, so the shard coordinator lives on. Had the oldest died, a
        // region that had not yet asked where the account's shard lives would wait for the coordinator to move (the
        // cluster half of failover, bounded by ChaosSpecs), whichever node the client had moved to (a CI failure).
        var notOldest = cluster.Nodes.Where(n => n != cluster.Seed).Select(InProcessCluster.HostPortOf).ToList();
        await using var client = await BankClient.ConnectAsync(notOldest);
        await using var session = client.OpenSession();
        await using var inside = cluster.NewSession();
        var probe = await inside.OpenAsync("probe", new AccountOptions(0m, 0m) { Detached = true });
        await session.BalanceAsync(probe);
        var connected = await ConnectedNodeAsync(cluster);
        Assert.NotEqual(cluster.Seed, connected);
        var survivor = cluster.Nodes.First(n => n != connected);
        var account = await OpenOnAsync(inside, InProcessCluster.AddressOf(survivor));
        Assert.Equal(10m, await session.BalanceAsync(account));

        var killAt = 0L;
        var calls = new List<(long Start, long End)>();
        using var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var done = 0;
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                await session.DepositAsync(account, 1m);
                lock (calls) calls.Add((start, Stopwatch.GetTimestamp()));
                done++;
            }

            return done;
        })).ToList();
        await Eventually.HoldsAsync(() => { lock (calls) return calls.Count > 50; }, "calls flowing before the kill");
        killAt = Stopwatch.GetTimestamp();
        var killed = cluster.KillAsync(connected);
        await Eventually.HoldsAsync(() => { lock (calls) return calls.Count(c => c.Start > killAt) > 50; }, "calls flowing after the kill",
            TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        var applied = (await Task.WhenAll(loops)).Sum();
        await killed;

        List<TimeSpan> inFlight;
        lock (calls) inFlight = [.. calls.Where(c => c.Start < killAt && c.End > killAt).Select(c => Stopwatch.GetElapsedTime(killAt, c.End))];
        output.WriteLine($"{inFlight.Count} call(s) in flight at the kill; the slowest completed {inFlight.DefaultIfEmpty().Max().TotalSeconds:0.00} s after it");
        Assert.NotEmpty(inFlight);
        Assert.True(inFlight.Max() < Bound, $"a call in flight at the kill took {inFlight.Max().TotalSeconds:0.00} s after it (bound {Bound.TotalSeconds} s)");
        // Resent under their ids: each applied once. Read on the survivor: `inside` may have been on the killed node.
        await using var after = cluster.NewSession(survivor);
        Assert.Equal(10m + applied, await after.BalanceAsync(account));
    }

    /// <summary>The node whose receptionist the client's ClusterClient is registered with.</summary>
    private static async Task<RunningNode> ConnectedNodeAsync(InProcessCluster cluster)
    {
        RunningNode? connected = null;
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var node in cluster.Nodes)
            {
                var clients = await ClusterClientReceptionist.Get(node.System).Underlying
                    .Ask<ClusterClients>(GetClusterClients.Instance, TimeSpan.FromSeconds(3));
                if (clients.ClusterClientsList.Count > 0) connected = node;
            }

            return connected is not null;
        }, "the client registered with a node's receptionist");
        return connected!;
    }

    /// <summary>An account whose entity runs on <paramref name="node"/>: opened until one lands there.</summary>
    private static async Task<ActorInfo> OpenOnAsync(BankSession session, string node)
    {
        for (var i = 0; i < 40; i++)
        {
            var actor = await session.OpenAsync($"on-survivor-{i}", new AccountOptions(10m, 0m) { Detached = true });
            if ((await session.StatusAsync(actor)).Node == node) return actor;
        }

        throw new InvalidOperationException($"no account landed on {node}");
    }
}
