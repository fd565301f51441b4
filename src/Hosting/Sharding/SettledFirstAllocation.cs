using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Bank.Domain;

namespace Bank.Hosting.Sharding;

/// <summary>
/// Akka's least-shards allocation, except that a shard that moves (its node died, or a rebalance handed it off) goes to
/// a node Up for at least bank.sharding.settle-time (<see cref="ShardMoves"/>). Measured in the chaos spec: the dead
/// worker's shards all went to its just-started replacement (it held the fewest), where their first recoveries took
/// about a second of the 10 s failover budget; on the older nodes they take tens of milliseconds.
/// </summary>
public sealed class SettledFirstAllocationStrategy(IShardAllocationStrategy leastShards)
    : IShardAllocationStrategy, IActorSystemDependentAllocationStrategy
{
    private ShardMoves _moves = new(TimeSpan.Zero);
    private Cluster? _cluster;

    public void Start(ActorSystem system)
    {
        _cluster = Cluster.Get(system);
        _moves = new ShardMoves(system.Settings.Config.GetTimeSpan("bank.sharding.settle-time", TimeSpan.FromSeconds(10)));
        switch (leastShards)
        {
            case IActorSystemDependentAllocationStrategy dependent: dependent.Start(system); break;
            case IStartableAllocationStrategy startable: startable.Start(); break;
        }
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId,
        IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var now = Look(currentShardAllocations);
        var nodes = currentShardAllocations.Keys.ToDictionary(region => region, NodeOf);
        var candidates = _moves.Candidates(shardId, nodes.Values.Distinct().ToList(), now).ToHashSet();
        var allowed = currentShardAllocations.Where(region => candidates.Contains(nodes[region.Key])).ToImmutableDictionary();
        // Placed from now on: if its node dies before another allocation lists it, its next placement is a move.
        _moves.SeePlacedShards([shardId]);
        return leastShards.AllocateShard(requester, shardId, allowed.Count > 0 ? allowed : currentShardAllocations);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations,
        IImmutableSet<string> rebalanceInProgress)
    {
        var now = Look(currentShardAllocations);
        return _moves.MayRebalance(currentShardAllocations.Keys.Select(NodeOf), now)
            ? leastShards.Rebalance(currentShardAllocations, rebalanceInProgress)
            : Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);
    }

    /// <summary>Notes the Up members and the placed shards; returns the clock's reading.</summary>
    private TimeSpan Look(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var now = TimeProvider.System.GetElapsedTime(0); // a monotonic reading, never the wall clock
        if (_cluster is not null)
            _moves.SeeUpNodes(_cluster.State.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address.ToString()), now);
        _moves.SeePlacedShards(currentShardAllocations.Values.SelectMany(shards => shards));
        return now;
    }

    private string NodeOf(IActorRef region) =>
        (region.Path.Address.HasLocalScope && _cluster is not null ? _cluster.SelfAddress : region.Path.Address).ToString();
}

public static class ShardingHostingExtensions
{
    /// <summary>
    /// Starts a shard region with <see cref="SettledFirstAllocationStrategy"/> and registers it under
    /// <typeparamref name="TKey"/> (Akka.Hosting's WithShardRegion takes no allocation strategy).
    /// <paramref name="overrides"/>: akka.cluster.sharding keys for this region only, e.g. remember-entities.
    /// </summary>
    public static AkkaConfigurationBuilder WithSettledFirstShardRegion<TKey>(this AkkaConfigurationBuilder builder, string typeName,
        Func<ActorSystem, IActorRegistry, Func<string, Props>> entityProps, IMessageExtractor extractor, string? role,
        object handOffStopMessage, string overrides = "") =>
        builder.WithActors((system, registry) =>
        {
            var shardingConfig = ConfigurationFactory.ParseString(overrides)
                .WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding"));
            var settings = ClusterShardingSettings.Create(shardingConfig, system.Settings.Config.GetConfig("akka.cluster.singleton"));
            if (role is not null) settings = settings.WithRole(role);
            var sharding = ClusterSharding.Get(system);
            var strategy = new SettledFirstAllocationStrategy(sharding.DefaultShardAllocationStrategy(settings));
            var region = sharding.Start(typeName, entityProps(system, registry), settings, extractor, strategy, handOffStopMessage);
            registry.Register<TKey>(region);
        });
}
