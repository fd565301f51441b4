using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Security;

namespace Bank.Testing;

/// <summary>
/// The one harness for Bank nodes in this process: one or more nodes composed by <see cref="BankNodeHostingExtensions.WithBankNode"/>
/// as `bank start` composes them, sharing one SQLite journal as the nodes of a real cluster share one database. The first
/// node is the seed and the oldest (the registry runs there), as `bank start --head` is; the others join it, as
/// `bank start --address` does. Nodes join, leave and die while a spec runs, as workers do.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly List<RunningNode> _nodes = [];
    private readonly List<RunningNode> _killed = [];
    private readonly bool _ownsData;
    private readonly string _hocon;
    private readonly bool _allowFaultInjection;

    private InProcessCluster(TempDataDirectory? data, string hocon, bool allowFaultInjection)
    {
        _ownsData = data is null;
        Data = data ?? new TempDataDirectory();
        _hocon = hocon;
        _allowFaultInjection = allowFaultInjection;
    }

    /// <summary>What the nodes that join from now on decide liveness and expiry with; a fake clock in tests of clock jumps.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The data folder every node writes; a spec that restarts a cluster passes the same one again.</summary>
    public TempDataDirectory Data { get; }

    /// <summary>The first node: the seed and the oldest, where the registry runs.</summary>
    public RunningNode Seed => _nodes[0];

    /// <summary>The nodes that are up, in the order they joined.</summary>
    public IReadOnlyList<RunningNode> Nodes => _nodes;

    /// <summary>Starts <paramref name="nodes"/> nodes that advertise what this machine has.</summary>
    /// <param name="hocon">Settings for every node, e.g. a short <c>bank.registry.snapshot-every</c>.</param>
    /// <param name="allowFaultInjection">Every node accepts `bank chaos crash` (<see cref="BankSession.CrashAsync"/>).</param>
    /// <param name="data">A data folder the caller owns, e.g. to start a second cluster on the first one's journal;
    /// by default one of the cluster's own, deleted with it.</param>
    public static Task<InProcessCluster> StartAsync(int nodes = 1, string hocon = "", bool allowFaultInjection = false,
        TempDataDirectory? data = null) =>
        StartAsync(Enumerable.Repeat<string?>(null, nodes), hocon, allowFaultInjection, data);

    /// <summary>Starts one node per entry of <paramref name="resources"/> (e.g. "cpu=4,gpu=4,memory=8GiB"; null: this machine's).</summary>
    /// <inheritdoc cref="StartAsync(int, string, bool, TempDataDirectory?)"/>
    public static async Task<InProcessCluster> StartAsync(IEnumerable<string?> resources, string hocon = "",
        bool allowFaultInjection = false, TempDataDirectory? data = null)
    {
        var cluster = new InProcessCluster(data, hocon, allowFaultInjection);
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

    /// <summary>A cluster of no node yet: the first <see cref="JoinAsync"/> starts its seed.</summary>
    /// <inheritdoc cref="StartAsync(int, string, bool, TempDataDirectory?)"/>
    public static InProcessCluster Empty(string hocon = "", bool allowFaultInjection = false, TempDataDirectory? data = null) =>
        new(data, hocon, allowFaultInjection);

    /// <summary>
    /// A node advertising <paramref name="resources"/> (null: this machine's) joins; returns once every node sees all of
    /// them Up and the coordinator knows the account region of every cpu node, so that new accounts spread over them.
    /// With <paramref name="tls"/> its cluster port speaks mutual TLS (the others must too).
    /// </summary>
    public async Task<RunningNode> JoinAsync(string? resources = null, TlsIdentity? tls = null)
    {
        ResourceSet? advertised = null;
        if (resources is not null)
        {
            if (!ResourceSet.TryParse(resources, out var parsed, out var error)) throw new ArgumentException(error, nameof(resources));
            advertised = parsed;
        }

        var options = new BankNodeOptions
        {
            Port = 0,
            Seeds = _nodes.Count == 0 ? [] : [HostPortOf(Seed)],
            Persistence = Data.Persistence,
            Resources = advertised,
            AllowFaultInjection = _allowFaultInjection,
            Tls = tls,
            Clock = Clock,
        };
        var node = await RunningNode.StartAsync((builder, _) => builder
            .WithBankNode(options)
            // Stopping the actor system alone does not leave the cluster: KillAsync's node vanishes as a killed process does.
            // A TestKit over a node waits longer than its 3 s default: persistence on a busy machine, nodes sharing one SQLite writer.
            .AddHocon(_hocon + "\nakka.coordinated-shutdown.run-by-actor-system-terminate = off"
                + "\nakka.test { single-expect-default = 10s, default-timeout = 10s }", HoconAddMode.Prepend));
        _nodes.Add(node);
        await Eventually.HoldsAsync(() => _nodes.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == _nodes.Count),
            $"all {_nodes.Count} nodes Up");
        // Accounts run on nodes with the cpu role. A node is ready once the coordinator has registered its region: a node
        // that dies while that registration is still being written holds the coordinator up well after it is downed.
        var accountNodes = _nodes.Count(n => Cluster.Get(n.System).SelfRoles.Contains(ResourceSet.Cpu));
        var region = Seed.Registry.Get<AccountRegionKey>();
        await Eventually.ReadsAsync(() => region.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(5)),
            regions => regions.Regions.Count == accountNodes, $"the account regions of all {accountNodes} cpu nodes registered",
            interval: TimeSpan.FromMilliseconds(200),
            show: regions => string.Join(", ", regions.Regions));
        return node;
    }

    /// <summary>The node leaves gracefully (as on Ctrl+C): its shards are handed off and its actor system stops.</summary>
    public async Task LeaveAsync(RunningNode node)
    {
        _nodes.Remove(node);
        await node.DisposeAsync();
        await Eventually.HoldsAsync(() => _nodes.All(n => Cluster.Get(n.System).State.Members.Count == _nodes.Count),
            $"the others to see {_nodes.Count} members");
    }

    /// <summary>
    /// The node dies at once, as a process does on kill -9: its actor system stops without leaving the cluster or handing
    /// off its shards. The others find it unreachable and the split brain resolver downs it (about 8 s, see
    /// hocon/cluster.hocon); returns once every other node has removed it.
    /// </summary>
    public async Task KillAsync(RunningNode node)
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
        await Eventually.HoldsAsync(() => _nodes.Any(n => Cluster.Get(n.System).State.Unreachable.Any(m => m.Address.Equals(address))),
            $"the others to find the killed node {address} unreachable");
        await Eventually.HoldsAsync(() => _nodes.All(n => Cluster.Get(n.System).State.Members.All(m => !m.Address.Equals(address))),
            $"the others to down and remove the killed node {address}");
    }

    /// <summary>The node's cluster address, as `bank status` and `bank list` show it: akka.tcp://bank@127.0.0.1:PORT.</summary>
    public static string AddressOf(RunningNode node) => Cluster.Get(node.System).SelfAddress.ToString();

    /// <summary>The node's "HOST:PORT", as `--address` and `--node` take it.</summary>
    public static string HostPortOf(RunningNode node)
    {
        var address = Cluster.Get(node.System).SelfAddress;
        return $"{address.Host}:{address.Port}";
    }

    /// <summary>A client session inside <paramref name="node"/> (the seed by default), as `bank demo` opens one: its
    /// actors that are not detached die with that node.</summary>
    public BankSession NewSession(RunningNode? node = null) => new((node ?? Seed).Gateway);

    /// <summary>Stops every node still up (gracefully, the newest first) and deletes the data folder if it is the cluster's own.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var node in Enumerable.Reverse(_nodes).ToList()) await node.DisposeAsync();
            foreach (var node in _killed) await node.DisposeAsync();
        }
        finally
        {
            if (_ownsData) Data.Dispose();
        }
    }
}
