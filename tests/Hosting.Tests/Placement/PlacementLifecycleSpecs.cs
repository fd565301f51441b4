using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Issue 5: a placed account keeps its node and its reservation through what an actor lives through (racing opens,
/// crashes, passivation, its owner's end, its node's death), and accounts that ask for nothing are left alone.
/// </summary>
public sealed class PlacementLifecycleSpecs
{
    private const string CpuOnly = "cpu=4,gpu=0,memory=8GiB";
    private const string GpuNode = "cpu=4,gpu=4,memory=8GiB";
    private const string BigCpuOnly = "cpu=16,gpu=0,memory=64GiB";

    // No cpu role: it runs no account entity, so the instances of its accounts always run away from their entities.
    private const string GpuWithoutCpus = "cpu=0,gpu=4,memory=8GiB";

    // The shards stay where they are: a rebalance to the node that joins drops the calls a region buffers during the
    // hand-off (Akka's sharding, whatever the placement), which would make a call here wait out its 15 s ask timeout.
    private const string NoRebalance = "akka.cluster.sharding.rebalance-interval = 1h";

    [Fact]
    public async Task Concurrent_opens_never_over_commit_a_GPU_node_and_those_left_over_fail_with_CREATION_FAILED()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, "cpu=16,gpu=4,memory=8GiB"],
            "bank.resources.pending-timeout = 3s");
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 12)
            .Select(i => OutcomeAsync(session.OpenAsync($"half-{i}", new AccountOptions(10m, 0m) { NumGpus = 0.5m }))));

        var opened = outcomes.OfType<ActorInfo>().ToList();
        var failed = outcomes.OfType<BankException>().ToList();
        Assert.Equal((8, 4), (opened.Count, failed.Count));
        Assert.All(opened, actor => Assert.Equal(gpuNode, actor.Node));
        Assert.All(failed, failure => Assert.Equal((ErrorKind.ActorDied, DeathCauses.CreationFailed), (failure.Kind, failure.Code)));
        var gpu = await NodeAsync(session, gpuNode);
        Assert.Equal((4m, 0m, 8m, 8), (gpu.Used["gpu"], gpu.Free["gpu"], gpu.Used["cpu"], gpu.Placed));
        var listed = await session.ListAsync();
        Assert.Equal(8, listed.Count(a => a.State == ActorState.Alive && a.Node == gpuNode));
        Assert.Equal(4, listed.Count(a => a is { State: ActorState.Dead, DeathCause: DeathCauses.CreationFailed }));
        Assert.All(await Task.WhenAll(opened.Select(actor => session.DepositAsync(actor, 5m))), balance => Assert.Equal(15m, balance));

        // Half a GPU freed takes exactly one more half.
        await session.KillAsync(opened[0].Name);
        var again = await session.OpenAsync("half-again", new AccountOptions(10m, 0m) { NumGpus = 0.5m });
        Assert.Equal(gpuNode, again.Node);
        gpu = await NodeAsync(session, gpuNode);
        Assert.Equal((4m, 0m, 8), (gpu.Used["gpu"], gpu.Free["gpu"], gpu.Placed));
    }

    [Fact]
    public async Task A_placed_account_that_crashes_is_restarted_on_its_node_and_applies_the_retried_deposit_once()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode], allowFaultInjection: true);
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();
        // Two accounts on two shards: their entities are spread over both nodes, so an instance runs away from its entity.
        var accounts = new List<ActorInfo>();
        for (var i = 0; i < 2; i++)
            accounts.Add(await session.OpenAsync($"crashy-{i}",
                new AccountOptions(100m, 0m) { NumGpus = 1, MaxRestarts = -1, MaxTaskRetries = -1 }));

        foreach (var account in accounts)
        {
            await session.CrashAsync(account.Name, 2);
            var requestId = Guid.NewGuid().ToString("N");

            Assert.Equal(150m, await session.DepositAsync(account, 50m, requestId));

            var status = await session.StatusAsync(account);
            Assert.Equal((gpuNode, 150m, 2), (status.Node, status.Balance, status.Restarts));
            Assert.Single((await session.HistoryAsync(account.Name)).Events, e => e.RequestId == requestId);
        }

        // One without restarts dies of its crash, and its GPU is released.
        var fragile = await session.OpenAsync("fragile", new AccountOptions(100m, 0m) { NumGpus = 1, MaxRestarts = 0 });
        await session.CrashAsync("fragile", 1);
        var died = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(fragile, 1m));
        Assert.Equal((ErrorKind.ActorDied, DeathCauses.MaxRestartsExceeded), (died.Kind, died.Code));

        var listed = await Eventually.ReadsAsync(() => session.ListAsync(),
            all => all.Count(a => a is { State: ActorState.Alive, Restarts: 2 }) == 2
                   && all.Any(a => a is { Name: "fragile", State: ActorState.Dead }), "2 accounts ALIVE with 2 restarts, fragile DEAD");
        Assert.All(listed.Where(a => a.State == ActorState.Alive), a => Assert.Equal(gpuNode, a.Node));
        Assert.Equal(DeathCauses.MaxRestartsExceeded, listed.Single(a => a.Name == "fragile").DeathCause);
        var status2 = await session.ClusterStatusAsync();
        var gpu = status2.Nodes.Single(n => n.Address == gpuNode);
        Assert.Equal((2m, 2m, 2), (gpu.Used["gpu"], gpu.Free["gpu"], gpu.Placed));
        Assert.All(status2.Nodes.Where(n => n.Address != gpuNode), n => Assert.Equal(0m, n.Used["cpu"]));
    }

    [Fact]
    public async Task A_placed_account_woken_after_passivation_answers_from_its_node_with_its_balance()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode],
            "akka.cluster.sharding.passivate-idle-entity-after = 2s");
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();
        var accounts = new List<ActorInfo>();
        for (var i = 0; i < 2; i++)
        {
            var account = await session.OpenAsync($"sleepy-{i}", new AccountOptions(100m, 0m) { NumGpus = 1 });
            await session.DepositAsync(account, 25m);
            accounts.Add(account);
        }

        var idle = await Eventually.ReadsAsync(() => session.ClusterStatusAsync(),
            status => status.Nodes.All(n => n.Actors == 0), "the idle accounts' instances to be passivated");
        // Passivation is no death: the GPUs stay reserved.
        var gpu = idle.Nodes.Single(n => n.Address == gpuNode);
        Assert.Equal((2m, 2), (gpu.Used["gpu"], gpu.Placed));

        foreach (var account in accounts)
        {
            var woken = await session.StatusAsync(account);
            Assert.Equal((gpuNode, 125m), (woken.Node, woken.Balance));
            Assert.Equal(135m, await session.DepositAsync(account, 10m));
        }
    }

    [Fact]
    public async Task When_its_session_ends_the_GPUs_of_the_actors_it_owned_are_released_and_a_detached_ones_are_kept()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode]);
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var observer = cluster.NewSession();
        await using var owner = cluster.NewSession();
        await owner.OpenAsync("owned-0", new AccountOptions(10m, 0m) { NumGpus = 1 });
        await owner.OpenAsync("owned-1", new AccountOptions(10m, 0m) { NumGpus = 1 });
        await owner.OpenAsync("kept", new AccountOptions(10m, 0m) { NumGpus = 1, Detached = true });
        Assert.Equal(3m, (await NodeAsync(observer, gpuNode)).Used["gpu"]);

        await owner.DisposeAsync();

        var listed = await observer.ListAsync();
        Assert.All(listed.Where(a => a.Name.StartsWith("owned-", StringComparison.Ordinal)),
            a => Assert.Equal((ActorState.Dead, DeathCauses.OwnerDied), (a.State, a.DeathCause)));
        Assert.Equal(ActorState.Alive, listed.Single(a => a.Name == "kept").State);
        var gpu = await NodeAsync(observer, gpuNode);
        Assert.Equal((1m, 3m, 1m, 1), (gpu.Used["gpu"], gpu.Free["gpu"], gpu.Used["cpu"], gpu.Placed));
        await Eventually.ReadsAsync(() => NodeAsync(observer, gpuNode), n => n.Actors == 1,
            "the dead actors' instances to stop on the GPU node");

        // The released GPUs take new work at once.
        var big = await observer.OpenAsync("big", new AccountOptions(10m, 0m) { NumGpus = 3 });
        Assert.Equal(gpuNode, big.Node);
    }

    [Fact]
    public async Task When_a_GPU_node_dies_its_accounts_move_to_the_other_GPU_node_with_their_balances_and_reservations()
    {
        await using var cluster = await InProcessCluster.StartAsync([BigCpuOnly, GpuNode], NoRebalance);
        var dying = cluster.Nodes[1];
        await using var session = cluster.NewSession();
        var (model, adapter) = await OpenModelAndAdapterAsync(session, InProcessCluster.AddressOf(dying));
        // A session inside the dying node owns one more: that actor dies with its owner instead of moving.
        await using var doomed = new BankSession(dying.Gateway);
        await doomed.OpenAsync("scratch", new AccountOptions(1m, 0m) { NumGpus = 1 });
        var survivor = InProcessCluster.AddressOf(await cluster.JoinAsync(GpuNode));

        await cluster.KillAsync(dying);
        // A deposit sent while the account has no node is resent under its id until it is answered: it applies once.
        var requestId = Guid.NewGuid().ToString("N");
        var balance = await Eventually.ReadsAsync(() => AnsweredAsync(session.DepositAsync(model, 5m, requestId)),
            b => b is not null, "the deposit to the moved model to be answered");

        Assert.Equal(115m, balance);
        var scratch = await Eventually.ReadsAsync(async () => (await session.ListAsync()).Single(a => a.Name == "scratch"),
            a => a.State == ActorState.Dead, "the actor of the dead node's session to die");
        Assert.Equal(DeathCauses.OwnerDied, scratch.DeathCause);
        await AssertMovedAsync(session, cluster, model, adapter, survivor, requestId);
        Assert.DoesNotContain((await session.ClusterStatusAsync()).Nodes, n => n.Address == InProcessCluster.AddressOf(dying));
    }

    [Fact]
    public async Task When_a_GPU_node_leaves_its_accounts_move_to_the_other_GPU_node_and_a_deposit_sent_meanwhile_applies_once()
    {
        await using var cluster = await InProcessCluster.StartAsync([BigCpuOnly, GpuNode], NoRebalance);
        var leaving = cluster.Nodes[1];
        await using var session = cluster.NewSession();
        var (model, adapter) = await OpenModelAndAdapterAsync(session, InProcessCluster.AddressOf(leaving));
        var survivor = InProcessCluster.AddressOf(await cluster.JoinAsync(GpuNode));

        var leave = cluster.LeaveAsync(leaving);
        var requestId = Guid.NewGuid().ToString("N");
        var balance = await Eventually.ReadsAsync(() => AnsweredAsync(session.DepositAsync(model, 5m, requestId)),
            b => b is not null, "the deposit sent while the node leaves to be answered");
        await leave;

        Assert.Equal(115m, balance);
        await AssertMovedAsync(session, cluster, model, adapter, survivor, requestId);
    }

    [Fact]
    public async Task When_a_node_leaves_and_the_next_one_fits_only_one_of_its_actors_exactly_one_moves_and_the_other_waits()
    {
        // Idle accounts passivate: no entity is awake to ask where to run, the registry alone places them again.
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, "cpu=4,gpu=2,memory=8GiB"],
            "akka.cluster.sharding.passivate-idle-entity-after = 1s");
        var leaving = cluster.Nodes[1];
        await using var session = cluster.NewSession();
        await session.OpenAsync("first", new AccountOptions(10m, 0m) { NumGpus = 1 });
        await session.OpenAsync("second", new AccountOptions(10m, 0m) { NumGpus = 1 });
        var small = InProcessCluster.AddressOf(await cluster.JoinAsync("cpu=4,gpu=1,memory=8GiB"));
        await Eventually.ReadsAsync(() => session.ClusterStatusAsync(), status => status.Nodes.All(n => n.Actors == 0),
            "both accounts to be passivated");

        await cluster.LeaveAsync(leaving);

        var listed = await Eventually.ReadsAsync(() => session.ListAsync(),
            all => all.Any(a => a.State == ActorState.Alive && a.Node == small), "one actor placed on the 1-GPU node");
        var status = await session.ClusterStatusAsync();
        var node = status.Nodes.Single(n => n.Address == small);
        Assert.Equal(["Alive on the 1-GPU node", "PendingCreation on no node"],
            listed.Select(a => $"{a.State} on {(a.Node == small ? "the 1-GPU node" : a.Node.Length == 0 ? "no node" : a.Node)}").Order());
        Assert.Equal((1m, 0m, 1, 1), (node.Used["gpu"], node.Free["gpu"], node.Placed, status.Pending));
    }

    [Fact]
    public async Task Accounts_that_ask_for_nothing_open_and_work_on_any_node_and_reserve_nothing_even_when_every_CPU_is_held()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode]);
        var addresses = cluster.Nodes.Select(InProcessCluster.AddressOf).ToList();
        await using var session = cluster.NewSession();
        await session.OpenAsync("cpu-hog", new AccountOptions(1m, 0m) { NumCpus = 4 });
        await session.OpenAsync("gpu-hog", new AccountOptions(1m, 0m) { NumCpus = 4, NumGpus = 1 });

        var plain = new List<ActorInfo>();
        for (var i = 0; i < 4; i++) plain.Add(await session.OpenAsync($"plain-{i}", new AccountOptions(10m, 0m)));

        Assert.All(plain, a => Assert.Equal((ActorState.Alive, (IReadOnlyDictionary<string, decimal>?)null), (a.State, a.Resources)));
        Assert.All(plain, a => Assert.Contains(a.Node, addresses));
        foreach (var account in plain)
        {
            Assert.Equal(15m, await session.DepositAsync(account, 5m));
            Assert.Contains((await session.StatusAsync(account)).Node, addresses);
        }

        var status = await session.ClusterStatusAsync();
        Assert.All(status.Nodes, n => Assert.Equal((4m, 0m, 1), (n.Used["cpu"], n.Free["cpu"], n.Placed)));
        Assert.Equal(0, status.Pending);

        await session.KillAsync("cpu-hog");
        await session.KillAsync("gpu-hog");
        status = await session.ClusterStatusAsync();
        Assert.All(status.Nodes, n => Assert.All(n.Used.Values, used => Assert.Equal(0m, used)));
        Assert.All(status.Nodes, n => Assert.Equal(0, n.Placed));
        Assert.Equal(20m, await session.DepositAsync(plain[0], 5m));
    }

    [Fact]
    public async Task Calls_to_a_placed_account_left_without_a_node_fail_with_PendingCreation_and_go_through_once_a_node_fits()
    {
        // One attempt per call (no client resends): the spec reads the node's own answer to a held call.
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuNode],
            "bank.resources.pending-timeout = 2s\nbank.client.retry-deadline = 0s\n" + NoRebalance);
        await using var session = cluster.NewSession();
        var stranded = await session.OpenAsync("stranded", new AccountOptions(100m, 0m) { NumGpus = 2 });
        await session.DepositAsync(stranded, 10m);

        await cluster.LeaveAsync(cluster.Nodes[1]);

        var pending = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(stranded, 1m));
        Assert.Equal((ErrorKind.ClusterUnreachable, "PendingCreation"), (pending.Kind, pending.Code));
        Assert.Contains("no node has the resources for actor 'stranded' (num_cpus=1, num_gpus=2)", pending.Message);
        Assert.Equal(1, (await session.ClusterStatusAsync()).Pending);

        var gpuNode = InProcessCluster.AddressOf(await cluster.JoinAsync(GpuNode));
        var requestId = Guid.NewGuid().ToString("N");
        var balance = await Eventually.ReadsAsync(() => AnsweredAsync(session.DepositAsync(stranded, 5m, requestId)),
            b => b is not null, "the deposit to go through on the new GPU node");

        Assert.Equal(115m, balance);
        Assert.Equal(gpuNode, (await session.StatusAsync(stranded)).Node);
        Assert.Single((await session.HistoryAsync("stranded")).Events, e => e.RequestId == requestId);
        var gpu = await NodeAsync(session, gpuNode);
        Assert.Equal((2m, 1), (gpu.Used["gpu"], gpu.Placed));
    }

    [Fact]
    public async Task A_GPU_account_killed_and_reopened_at_once_on_its_key_without_resources_opens()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuWithoutCpus]);
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();
        var key = $"job-{Guid.NewGuid():N}";

        // As a script does it, 30 times: used, killed, and reopened at once without resources. The reopen comes while
        // the killed incarnation's instance ends on the GPU node.
        for (var round = 1; round <= 30; round++)
        {
            var placed = await session.OpenAsync("job", new AccountOptions(10m, 0m) { Key = key, NumCpus = 0, NumGpus = 1 });
            Assert.Equal((round, gpuNode), (round, placed.Node));
            await session.StatusAsync(placed);
            await session.DepositAsync(placed, 1m);
            await session.KillAsync("job");

            var plain = await session.OpenAsync("job", new AccountOptions(10m, 0m) { Key = key });

            Assert.Equal((round, ActorState.Alive, (IReadOnlyDictionary<string, decimal>?)null), (round, plain.State, plain.Resources));
            await session.KillAsync("job");
        }
    }

    [Fact]
    public async Task An_account_whose_incarnations_run_on_one_node_then_another_then_the_first_again_keeps_every_deposit_when_it_wakes()
    {
        await using var cluster = await InProcessCluster.StartAsync([CpuOnly, GpuWithoutCpus],
            "akka.cluster.sharding.passivate-idle-entity-after = 1s");
        var cpuNode = InProcessCluster.AddressOf(cluster.Nodes[0]);
        var gpuNode = InProcessCluster.AddressOf(cluster.Nodes[1]);
        await using var session = cluster.NewSession();
        var key = $"job-{Guid.NewGuid():N}";
        var plain = new AccountOptions(10m, 0m) { Key = key };
        var onGpu = plain with { NumCpus = 0, NumGpus = 1 };

        // Written on the CPU node, then on the GPU node, then on the CPU node again.
        var first = await session.OpenAsync("job", plain);
        Assert.Equal(15m, await session.DepositAsync(first, 5m));
        await KillAndWaitUntilGoneAsync(session, key);
        var second = await session.OpenAsync("job", onGpu);
        Assert.Equal(gpuNode, (await session.StatusAsync(second)).Node);
        Assert.Equal(20m, await session.DepositAsync(second, 5m));
        await KillAndWaitUntilGoneAsync(session, key);
        var third = await session.OpenAsync("job", plain);
        Assert.Equal(25m, await session.DepositAsync(third, 5m));
        await Eventually.ReadsAsync(() => session.ClusterStatusAsync(), status => status.Nodes.All(n => n.Actors == 0),
            "the idle account to be passivated");

        // Woken, it replays its whole journal.
        var woken = await session.StatusAsync(third);

        Assert.Equal((cpuNode, 25m), (woken.Node, woken.Balance));
    }

    /// <summary>Kills the actor and waits until its entity has stopped, so that the next open meets a fresh one.</summary>
    private static async Task KillAndWaitUntilGoneAsync(BankSession session, string key)
    {
        await session.KillAsync("job");
        await Eventually.ReadsAsync(() => session.ShardsAsync(BankConstants.AccountShardType, entities: true),
            shards => shards.Regions.All(r => r.Detail is null || r.Detail.All(shard => !shard.EntityIds.Contains(key))),
            $"the entity of account {key} to stop");
    }

    /// <summary>
    /// Opens "model" (2 GPUs, 100, then 110 after a deposit) and "adapter" (1 GPU, 50) on the GPU node, on keys of two
    /// shards: their entities live on two nodes, so one of the two runs its instance away from its entity, through the
    /// GPU node's PlacedInstances, and the other next to it.
    /// </summary>
    private static async Task<(ActorInfo Model, ActorInfo Adapter)> OpenModelAndAdapterAsync(BankSession session, string gpuNode)
    {
        const string modelKey = "model-key", adapterKey = "adapter-key";
        var shards = new AccountMessageExtractor(100);
        Assert.NotEqual(shards.ShardId(modelKey), shards.ShardId(adapterKey));
        var model = await session.OpenAsync("model", new AccountOptions(100m, 0m) { Key = modelKey, NumGpus = 2 });
        var adapter = await session.OpenAsync("adapter", new AccountOptions(50m, 0m) { Key = adapterKey, NumGpus = 1 });
        Assert.Equal((gpuNode, gpuNode), (model.Node, adapter.Node));
        await session.DepositAsync(model, 10m);

        var regions = (await session.ShardsAsync(BankConstants.AccountShardType, entities: true)).Regions;
        string EntityNode(string key) => regions.Single(r => r.Detail!.Any(shard => shard.EntityIds.Contains(key))).Node;
        Assert.NotEqual(EntityNode(modelKey), EntityNode(adapterKey));
        return (model, adapter);
    }

    /// <summary>Both accounts run on the surviving GPU node, never on the CPU-only one, with their balances and GPUs.</summary>
    private static async Task AssertMovedAsync(BankSession session, InProcessCluster cluster, ActorInfo model, ActorInfo adapter,
        string survivor, string requestId)
    {
        await Eventually.ReadsAsync(() => session.ListAsync(),
            all => all.Count(a => a.Name is "model" or "adapter" && a.State == ActorState.Alive && a.Node == survivor) == 2,
            "both accounts ALIVE on the surviving GPU node");
        var modelStatus = await session.StatusAsync(model);
        var adapterStatus = await session.StatusAsync(adapter);
        Assert.Equal((survivor, 115m), (modelStatus.Node, modelStatus.Balance));
        Assert.Equal((survivor, 50m), (adapterStatus.Node, adapterStatus.Balance));
        Assert.Single((await session.HistoryAsync("model")).Events, e => e.RequestId == requestId);
        var status = await session.ClusterStatusAsync();
        var gpu = status.Nodes.Single(n => n.Address == survivor);
        Assert.Equal((3m, 1m, 2), (gpu.Used["gpu"], gpu.Free["gpu"], gpu.Placed));
        var cpuOnly = status.Nodes.Single(n => n.Address == InProcessCluster.AddressOf(cluster.Seed));
        Assert.Equal((0, 0), (cpuOnly.Placed, cpuOnly.Actors));
        Assert.All(cpuOnly.Used.Values, used => Assert.Equal(0m, used));
        Assert.Equal(0, status.Pending);
    }

    private static async Task<NodeStatus> NodeAsync(BankSession session, string address) =>
        (await session.ClusterStatusAsync()).Nodes.Single(n => n.Address == address);

    /// <summary>The actor, or the BankException the open failed with.</summary>
    private static async Task<object> OutcomeAsync(Task<ActorInfo> open)
    {
        try
        {
            return await open;
        }
        catch (BankException failure)
        {
            return failure;
        }
    }

    /// <summary>The balance, or null while the cluster cannot answer yet (the caller resends under the same id).</summary>
    private static async Task<decimal?> AnsweredAsync(Task<decimal> call)
    {
        try
        {
            return await call;
        }
        catch (BankException unreachable) when (unreachable.Kind == ErrorKind.ClusterUnreachable)
        {
            return null;
        }
    }
}
