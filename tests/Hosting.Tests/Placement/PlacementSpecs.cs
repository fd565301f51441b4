using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>Issue 5: accounts that ask for CPUs, GPUs or memory run only on nodes that have them free.</summary>
public sealed class PlacementSpecs
{
    private const string CpuOnly = "cpu=4,gpu=0,memory=8GiB";
    private const string GpuNode = "cpu=4,gpu=4,memory=8GiB";
    private const string BigMemory = "cpu=4,gpu=0,memory=64GiB";

    [Fact]
    public async Task Gpu_accounts_land_on_the_gpu_node_and_hold_their_resources_there()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode, BigMemory]);
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();

        var first = await session.OpenAsync("gpu-1", new AccountOptions(100m, 0m) { NumGpus = 1 });
        var second = await session.OpenAsync("gpu-2", new AccountOptions(100m, 0m) { NumGpus = 2, Memory = 500m * 1024 * 1024 });
        Assert.Equal(gpuNode, first.Node);
        Assert.Equal(gpuNode, second.Node);
        Assert.Equal(150m, await session.DepositAsync(first, 50m));
        Assert.Equal(gpuNode, (await session.StatusAsync(second)).Node);

        var status = await session.ClusterStatusAsync();
        var gpu = status.Nodes.Single(n => n.Address == gpuNode);
        Assert.Equal(3m, gpu.Used["gpu"]);
        Assert.Equal(2m, gpu.Used["cpu"]);
        Assert.Equal(1m, gpu.Free["gpu"]);
    }

    [Fact]
    public async Task A_pending_account_starts_when_a_node_that_fits_joins()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly]);
        await using var session = cluster.NewSession();

        var opening = session.OpenAsync("trainer", new AccountOptions(10m, 0m) { NumGpus = 4 });
        var listed = await Eventually.ReadsAsync(() => session.ListAsync(),
            actors => actors.Any(a => a.Name == "trainer"), "the open to be listed");
        Assert.Equal(ActorState.PendingCreation, listed.Single(a => a.Name == "trainer").State);
        Assert.False(opening.IsCompleted);

        var gpuNode = await cluster.JoinAsync(GpuNode);
        var trainer = await opening;

        Assert.Equal(InProcessCluster.AddressOf(gpuNode), trainer.Node);
        Assert.Equal(ActorState.Alive, trainer.State);
        Assert.Equal(15m, await session.DepositAsync(trainer, 5m));
    }

    [Fact]
    public async Task An_open_that_no_node_fits_fails_after_the_pending_timeout_naming_the_request_and_the_largest_free_capacity()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode], "bank.resources.pending-timeout = 2s");
        await using var session = cluster.NewSession();

        var failure = await Assert.ThrowsAsync<BankException>(() =>
            session.OpenAsync("greedy", new AccountOptions(10m, 0m) { NumGpus = 8, Memory = 500m * 1024 * 1024 }));

        Assert.Equal(ErrorKind.ActorDied, failure.Kind);
        Assert.Equal(DeathCauses.CreationFailed, failure.Code);
        Assert.Contains("num_cpus=1, num_gpus=8, memory=500MiB", failure.Message);
        Assert.Contains($"gpu=4 on {InProcessCluster.AddressOf(cluster.Nodes[1])}", failure.Message);
        var dead = (await session.ListAsync()).Single(a => a.Name == "greedy");
        Assert.Equal((ActorState.Dead, DeathCauses.CreationFailed), (dead.State, dead.DeathCause));
    }

    [Fact]
    public async Task Reservations_are_released_exactly_when_actors_are_killed_or_exit()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode]);
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();

        var actors = new List<ActorInfo>();
        for (var i = 0; i < 4; i++)
            actors.Add(await session.OpenAsync($"half-{i}", new AccountOptions(1m, 0m) { NumGpus = 0.5m, NumCpus = 0.25m }));
        await session.KillAsync("half-0");
        await session.ExitAsync(actors[1]);

        var status = await session.ClusterStatusAsync();
        var gpu = status.Nodes.Single(n => n.Address == gpuNode);
        Assert.Equal((1m, 0.5m, 2), (gpu.Used["gpu"], gpu.Used["cpu"], gpu.Placed));
        Assert.Equal(3m, gpu.Free["gpu"]);
        Assert.All(status.Nodes.Where(n => n.Address != gpuNode), n => Assert.Equal(0m, n.Used.GetValueOrDefault("gpu")));

        // Freed resources take new actors: 3 GPUs are free, so one asking for 3 fits and one more asking for 1 does not.
        var big = await session.OpenAsync("big", new AccountOptions(1m, 0m) { NumGpus = 3 });
        Assert.Equal(gpuNode, big.Node);
        status = await session.ClusterStatusAsync();
        Assert.Equal(0m, status.Nodes.Single(n => n.Address == gpuNode).Free["gpu"]);
    }

    [Fact]
    public async Task When_a_node_leaves_its_actors_move_only_to_a_node_that_fits()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode, BigMemory]);
        var leaving = cluster.Nodes[2];
        await using var session = cluster.NewSession();
        var memoryHog = await session.OpenAsync("hog", new AccountOptions(10m, 0m) { Memory = 32m * 1024 * 1024 * 1024, MaxRestarts = 0 });
        Assert.Equal(InProcessCluster.AddressOf(leaving), memoryHog.Node);
        var small = await session.OpenAsync("small", new AccountOptions(10m, 0m) { NumCpus = 1 });
        await session.DepositAsync(memoryHog, 5m);

        await cluster.LeaveAsync(leaving);

        // No other node has 32 GiB: the hog waits; the other actor keeps running.
        var hog = await Eventually.ReadsAsync(async () => (await session.ListAsync()).Single(a => a.Name == "hog"),
            a => a.State == ActorState.PendingCreation, "the hog to be pending");
        Assert.Equal(string.Empty, hog.Node);
        Assert.Equal(11m, await session.DepositAsync(small, 1m));

        var bigAgain = await cluster.JoinAsync(BigMemory);
        var moved = await Eventually.ReadsAsync(async () => (await session.ListAsync()).Single(a => a.Name == "hog"),
            a => a.State == ActorState.Alive, "the hog to be placed again");
        Assert.Equal(InProcessCluster.AddressOf(bigAgain), moved.Node);
        Assert.Equal(20m, await session.DepositAsync(memoryHog, 5m));
        Assert.Equal(InProcessCluster.AddressOf(bigAgain), (await session.StatusAsync(memoryHog)).Node);
    }
}

/// <summary>An open the registry placed on a node runs there or nowhere: never on the node its entity happens to be on.</summary>
public sealed class PlacedOpenSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public async Task An_open_placed_on_a_node_that_is_gone_is_refused_for_a_retry_and_opens_nothing()
    {
        var key = Unique("placed");
        var id = Unique("id");
        var self = Akka.Cluster.Cluster.Get(Sys).SelfAddress;
        var gone = $"{self.Protocol}://{self.System}@{self.Host}:1";
        var open = new OpenAccount(10m, 0m, id, 0, 0, new Dictionary<string, decimal> { ["cpu"] = 1m, ["gpu"] = 1m });

        Accounts.Tell(new AccountRequest(key, id, open, gone), TestActor);

        var refused = await ExpectMsgAsync<Rejected>(TimeSpan.FromSeconds(30));
        Assert.Equal((ErrorKind.ClusterUnreachable, "PlacementLost"), (refused.Kind, refused.Code));
        Accounts.Tell(new AccountRequest(key, id, GetBalance.Instance), TestActor);
        Assert.Equal(ErrorKind.ActorNotFound, (await ExpectMsgAsync<Rejected>()).Kind);
    }
}
