using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// A two-node Bank cluster in this process: A is its own seed, as `bank start --head` is, and B joins it, as
/// `bank start --address` does. Both write one SQLite journal, as the nodes of a real cluster share one database.
/// </summary>
public sealed class TwoNodeCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(30);

    private readonly TempDataDirectory _data;
    private BankHost? _b;

    private TwoNodeCluster(TempDataDirectory data, BankHost a, BankHost b)
    {
        _data = data;
        A = a;
        _b = b;
        AddressA = Cluster.Get(a.System).SelfAddress;
        AddressB = Cluster.Get(b.System).SelfAddress;
    }

    /// <summary>The seed, and the oldest node: the registry singleton runs here.</summary>
    public BankHost A { get; }

    public BankHost B => _b ?? throw new InvalidOperationException("Node B has left the cluster");

    public Address AddressA { get; }

    /// <summary>Still known after B has left.</summary>
    public Address AddressB { get; }

    /// <summary>A session inside node A: its actors that are not detached die with A.</summary>
    public BankSession NewSessionOnA() => new(A.Gateway);

    /// <summary>A session inside node B: its actors that are not detached die with B.</summary>
    public BankSession NewSessionOnB() => new(B.Gateway);

    /// <summary>Starts A, then B joined to it, and waits until both see two Up members and both shard regions.</summary>
    public static async Task<TwoNodeCluster> StartAsync()
    {
        var data = new TempDataDirectory();
        BankHost? a = null;
        BankHost? b = null;
        try
        {
            a = await BankHost.StartAsync((builder, _) => Compose(builder, new BankNodeOptions { Persistence = data.Persistence }));
            var seed = $"127.0.0.1:{Cluster.Get(a.System).SelfAddress.Port}";
            b = await BankHost.StartAsync((builder, _) =>
                Compose(builder, new BankNodeOptions { Seeds = [seed], Persistence = data.Persistence }));
            var cluster = new TwoNodeCluster(data, a, b);
            await cluster.WaitUntilReadyAsync();
            return cluster;
        }
        catch
        {
            if (b is not null) await b.DisposeAsync();
            if (a is not null) await a.DisposeAsync();
            data.Dispose();
            throw;
        }
    }

    /// <summary>Node B leaves gracefully, as on Ctrl+C: its shards are handed off and its actor system stops.</summary>
    public async Task StopBAsync()
    {
        if (_b is not { } b) return;
        _b = null;
        await b.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopBAsync();
            await A.DisposeAsync();
        }
        finally
        {
            _data.Dispose();
        }
    }

    private static AkkaConfigurationBuilder Compose(AkkaConfigurationBuilder builder, BankNodeOptions options) =>
        builder
            .WithBankNode(options)
            // A TestKit over a node waits longer than its 3 s default: two nodes share one SQLite writer here.
            .AddHocon("akka.test { single-expect-default = 10s, default-timeout = 10s }", HoconAddMode.Append);

    /// <summary>
    /// Up on both sides, and B's shard region known to the coordinator, so that new accounts are spread over both.
    /// </summary>
    private async Task WaitUntilReadyAsync()
    {
        using var deadline = new CancellationTokenSource(ReadyWithin);
        var region = A.Registry.Get<AccountRegionKey>();
        try
        {
            while (!await IsReadyAsync(region, deadline.Token))
            {
                // A bounded poll of the cluster's state: there is no single event for "both regions registered".
                await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"nodes {AddressA} and {AddressB} were not both Up with their shard regions within {ReadyWithin.TotalSeconds} s");
        }
    }

    private async Task<bool> IsReadyAsync(IActorRef region, CancellationToken cancellationToken)
    {
        var upOnBoth = new[] { A.System, B.System }.All(system =>
            Cluster.Get(system).State.Members.Count(m => m.Status == MemberStatus.Up) == 2);
        if (!upOnBoth) return false;
        var regions = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(5), cancellationToken);
        return regions.Regions.Count == 2;
    }
}
