namespace Bank.Hosting.Contracts;

/// <summary>`bank cluster show`: the members as the asked node sees them.</summary>
public sealed record GetClusterView : IGatewayRequest
{
    public static readonly GetClusterView Instance = new();
}

/// <param name="UpSince">When the answering node saw the member become Up; null for members that are not Up.</param>
public sealed record MemberView(string Address, string Status, IReadOnlyList<string> Roles, bool Reachable, bool Leader, bool Oldest,
    DateTimeOffset? UpSince) : IBankMessage;

public sealed record ClusterView(string Node, IReadOnlyList<MemberView> Members) : IBankMessage;

/// <summary>`bank cluster leave|down ADDRESS` and `bank cluster down-unreachable`.</summary>
public sealed record ChangeMembership(string Action, string? Address) : IGatewayRequest
{
    public const string Leave = "leave";
    public const string Down = "down";
    public const string DownUnreachable = "down-unreachable";
}

/// <summary>The members a <see cref="ChangeMembership"/> was applied to.</summary>
public sealed record MembershipChanged(string Action, IReadOnlyList<string> Addresses) : IBankMessage;

/// <summary>`bank cluster tail`: the membership events after <paramref name="After"/>, waiting up to a few seconds for one.</summary>
public sealed record GetMembershipEvents(long After) : IGatewayRequest;

public sealed record MembershipEvent(long Seq, DateTimeOffset At, string Kind, string Address, string Status) : IBankMessage;

public sealed record MembershipEvents(long Last, IReadOnlyList<MembershipEvent> Events) : IBankMessage;

/// <summary>
/// `bank shards [--type TYPE] [--entities]`: every node's shard regions. With entities, one page of them: the entity ids
/// after <paramref name="After"/> in ordinal order, at most <paramref name="Limit"/> (0: a full page, see <see cref="Pages"/>).
/// </summary>
public sealed record GetShards(string? Type, bool Entities, string? After = null, int Limit = 0) : IGatewayRequest;

/// <summary>One node's part of <see cref="GetShards"/>, asked of each node's inspector.</summary>
public sealed record GetLocalShards(string? Type, bool Entities, string? After = null, int Limit = 0) : IBankMessage;

public sealed record ShardView(string ShardId, IReadOnlyList<string> EntityIds) : IBankMessage;

/// <param name="Detail">The shards with their entity ids, when asked for.</param>
public sealed record RegionView(string Node, string Type, int Shards, int Entities, IReadOnlyList<ShardView>? Detail) : IBankMessage;

/// <param name="Next">With entities: the <see cref="GetShards.After"/> of the next page; null on the last page.</param>
public sealed record ShardsView(IReadOnlyList<RegionView> Regions, string? Next = null) : IBankMessage;

/// <summary>`bank actor hierarchy [PATH] [--depth N] [--node ADDRESS]`: a node's actors under a path.</summary>
public sealed record GetActorTree(string Path, int Depth, string? Node) : IGatewayRequest;

public sealed record ActorNode(string Name, string Path, IReadOnlyList<ActorNode> Children, int Hidden = 0) : IBankMessage;

public sealed record ActorTree(string Node, ActorNode Root) : IBankMessage;

/// <summary>What a node has: asked of each node's inspector for the dashboard.</summary>
public sealed record GetNodeInfo : IBankMessage
{
    public static readonly GetNodeInfo Instance = new();
}

/// <param name="MemoryBytes">The memory this process may use (the machine's, or its container's limit).</param>
/// <param name="Resources">What the node advertises (cpu, gpu, memory in bytes, custom ones).</param>
/// <param name="Actors">Account instances running on the node now.</param>
public sealed record NodeInfo(string Address, int Cpus, long MemoryBytes, IReadOnlyList<string> Roles,
    IReadOnlyDictionary<string, decimal>? Resources = null, int Actors = 0) : IBankMessage;

/// <summary>`bank status`: every node with its roles, resources (total, used, free) and number of actors, like `ray status`.</summary>
public sealed record GetClusterStatus : IGatewayRequest
{
    public static readonly GetClusterStatus Instance = new();
}

/// <param name="Actors">Account instances running on the node.</param>
/// <param name="Used">What the actors placed on the node hold (their num_cpus, num_gpus, memory, custom resources).</param>
/// <param name="Placed">How many live actors hold resources on the node.</param>
public sealed record NodeStatus(string Address, IReadOnlyList<string> Roles, int Actors, IReadOnlyDictionary<string, decimal> Total,
    IReadOnlyDictionary<string, decimal> Used, IReadOnlyDictionary<string, decimal> Free, int Placed = 0) : IBankMessage;

/// <param name="Pending">Actors waiting for a node with their resources free (PENDING_CREATION).</param>
public sealed record ClusterStatus(IReadOnlyList<NodeStatus> Nodes, int Pending = 0) : IBankMessage;

/// <summary>
/// A node tells the placement coordinator what it advertises, when its inspector starts: a node that came Up before
/// its inspector answered is known without waiting for the next ask.
/// </summary>
public sealed record NodeAdvertised(string Node, IReadOnlyDictionary<string, decimal> Resources) : IBankMessage;
