namespace Bank.Domain;

/// <summary>
/// Where a shard that moves goes: the shards of a dead node (and those handed off by a rebalance) start on nodes that
/// have been Up for at least the settle time, whose code and journal connections are warm, rather than on the node that
/// just joined, which Akka's least-shards rule would pick first and where the first recoveries take a second or more.
/// A new shard may go anywhere. A node that just joined gets moved shards by rebalancing once it has settled; until then
/// no rebalance runs, as it would hand shards to the newcomer only to have them placed elsewhere.
/// Times are monotonic readings of the coordinator's own clock (never an instant from another process).
/// </summary>
public sealed class ShardMoves(TimeSpan settleTime)
{
    private readonly Dictionary<string, TimeSpan> _upSince = [];
    private readonly HashSet<string> _placedBefore = [];
    private bool _started;

    public TimeSpan SettleTime { get; } = settleTime;

    /// <summary>
    /// The nodes Up now. Those present at the first look are taken as settled (the coordinator has just started and
    /// cannot tell how long they have been up); a node first seen later is settled <see cref="SettleTime"/> after that.
    /// </summary>
    public void SeeUpNodes(IEnumerable<string> upNodes, TimeSpan now)
    {
        var up = upNodes.ToHashSet();
        foreach (var gone in _upSince.Keys.Where(node => !up.Contains(node)).ToList()) _upSince.Remove(gone);
        foreach (var node in up) _upSince.TryAdd(node, _started ? now : now - SettleTime);
        _started = true;
    }

    /// <summary>The shards placed now; a shard seen here that is later placed again is a move.</summary>
    public void SeePlacedShards(IEnumerable<string> shards) => _placedBefore.UnionWith(shards);

    public bool IsSettled(string node, TimeSpan now) =>
        _upSince.TryGetValue(node, out var since) && now - since >= SettleTime;

    /// <summary>
    /// The nodes <paramref name="shard"/> may go to, of <paramref name="nodes"/>: all of them for a new shard, the settled
    /// ones for a shard that moves, or all of them again when none has settled (failover never waits for one).
    /// </summary>
    public IReadOnlyList<string> Candidates(string shard, IReadOnlyList<string> nodes, TimeSpan now)
    {
        if (!_placedBefore.Contains(shard)) return nodes;
        var settled = nodes.Where(node => IsSettled(node, now)).ToList();
        return settled.Count == 0 ? nodes : settled;
    }

    /// <summary>Whether a rebalance may run: only once every node with a region has settled.</summary>
    public bool MayRebalance(IEnumerable<string> nodes, TimeSpan now) => nodes.All(node => IsSettled(node, now));
}
