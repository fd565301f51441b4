using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// Bank nodes in this process that advertise the resources a spec gives them, sharing one SQLite journal as the nodes
/// of a real cluster share one database. The first node is the seed (the oldest: the registry runs there); nodes join
/// and leave while a spec runs, as workers do.
/// </summary>
public sealed class ResourceCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(30);

    private readonly TempDataDirectory _data = new();
    private readonly List<BankHost> _nodes = [];
    private readonly List<BankHost> _killed = [];
    private readonly string _hocon;
    private readonly bool _allowFaultInjection;

    private ResourceCluster(string hocon, bool allowFaultInjection)
    {
        _hocon = hocon;
        _allowFaultInjection = allowFaultInjection;
    }

    /// <summary>The seed node, where the registry runs.</summary>
    public BankHost Seed => _nodes[0];

    public IReadOnlyList<BankHost> Nodes => _nodes;

    /// <summary>Starts one node per entry of <paramref name="resources"/> (e.g. "cpu=4,gpu=4,memory=8GiB"), the first as seed.</summary>
    /// <param name="hocon">Settings for every node, e.g. a short <c>bank.resources.pending-timeout</c>.</param>
    /// <param name="allowFaultInjection">Every node accepts `bank chaos crash` (<see cref="BankSession.CrashAsync"/>).</param>
    public static async Task<ResourceCluster> StartAsync(IEnumerable<string> resources, string hocon = "", bool allowFaultInjection = false)
    {
        var cluster = new ResourceCluster(hocon, allowFaultInjection);
        try
        {
            foreach (var node in resources) await cluster.JoinAsync(node);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A node advertising <paramref name="resources"/> joins; returns once every node sees all of them Up.</summary>
    public async Task<BankHost> JoinAsync(string resources)
    {
        if (!ResourceSet.TryParse(resources, out var advertised, out var error)) throw new ArgumentException(error, nameof(resources));
        var seeds = _nodes.Count == 0 ? [] : new[] { $"127.0.0.1:{Cluster.Get(Seed.System).SelfAddress.Port}" };
        var options = new BankNodeOptions
        {
            Seeds = seeds, Persistence = _data.Persistence, Resources = advertised, AllowFaultInjection = _allowFaultInjection,
        };
        var node = await BankHost.StartAsync((builder, _) => builder
            .WithBankNode(options)
            // Stopping the actor system alone does not leave the cluster: KillAsync's node vanishes as a killed process does.
            .AddHocon(_hocon + "\nakka.coordinated-shutdown.run-by-actor-system-terminate = off"
                + "\nakka.test { single-expect-default = 10s, default-timeout = 10s }", HoconAddMode.Prepend));
        _nodes.Add(node);
        await WaitUntilAsync(() => _nodes.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == _nodes.Count),
            $"all {_nodes.Count} nodes Up");
        // Accounts run on nodes with the cpu role. A node is ready once the coordinator has registered its region: a node
        // that dies while that registration is still being written holds the coordinator up well after it is downed.
        var accountNodes = _nodes.Count(n => Cluster.Get(n.System).SelfRoles.Contains(ResourceSet.Cpu));
        var region = Seed.Registry.Get<AccountRegionKey>();
        await EventuallyAsync(() => region.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(5)),
            regions => regions.Regions.Count == accountNodes, $"the account regions of all {accountNodes} cpu nodes registered");
        return node;
    }

    /// <summary>The node leaves gracefully (as on Ctrl+C) and its actor system stops.</summary>
    public async Task LeaveAsync(BankHost node)
    {
        _nodes.Remove(node);
        await node.DisposeAsync();
        await WaitUntilAsync(() => _nodes.All(n => Cluster.Get(n.System).State.Members.Count == _nodes.Count),
            $"the others to see {_nodes.Count} members");
    }

    /// <summary>
    /// The node dies at once, as a process does on kill -9: its actor system stops without leaving the cluster or handing
    /// off its shards. The others find it unreachable and the split brain resolver downs it (about 8 s, see
    /// hocon/cluster.hocon); returns once every other node has removed it.
    /// </summary>
    public async Task KillAsync(BankHost node)
    {
        var self = Cluster.Get(node.System).SelfUniqueAddress;
        var address = self.Address;
        _nodes.Remove(node);
        _killed.Add(node);
        // A killed process sends nothing more, not even the death notices of its actors, which stopping an actor system
        // in this process would send: the others first quarantine it, so that nothing it says reaches them.
        foreach (var other in _nodes)
            ((IRemoteActorRefProvider)((ExtendedActorSystem)other.System).Provider).Quarantine(address, self.Uid);
        await node.System.Terminate();
        // Unreachable first: a node that left gracefully would never be.
        await WaitUntilAsync(() => _nodes.Any(n => Cluster.Get(n.System).State.Unreachable.Any(m => m.Address.Equals(address))),
            $"the others to find the killed node {address} unreachable");
        await WaitUntilAsync(() => _nodes.All(n => Cluster.Get(n.System).State.Members.All(m => !m.Address.Equals(address))),
            $"the others to down and remove the killed node {address}");
    }

    public static string AddressOf(BankHost node) => Cluster.Get(node.System).SelfAddress.ToString();

    public BankSession NewSession() => new(Seed.Gateway);

    /// <summary>Polls a condition of the cluster's state, which has no single event to wait for, up to 30 s.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(ReadyWithin);
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"waited {ReadyWithin.TotalSeconds} s for {what}");
            }
        }
    }

    /// <summary>Polls an asynchronous condition, e.g. what `bank status` says, up to 30 s.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> holds, string what)
    {
        using var deadline = new CancellationTokenSource(ReadyWithin);
        var last = await read();
        while (!holds(last))
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"waited {ReadyWithin.TotalSeconds} s for {what}; last: {last}");
            }

            last = await read();
        }

        return last;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var node in Enumerable.Reverse(_nodes).ToList()) await node.DisposeAsync();
            foreach (var node in _killed) await node.DisposeAsync();
        }
        finally
        {
            _data.Dispose();
        }
    }
}
