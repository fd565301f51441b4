using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Inspection;

/// <summary>
/// Bank's own Petabridge.Cmd-style inspection, one per node at <c>/user/bank-inspector</c>, reached through the node's
/// gateway: cluster members and membership changes, shard regions, and the node's actor tree. Questions about every
/// node (shards) are asked of each node's inspector; one about another node's actors goes to that node's inspector.
/// </summary>
public sealed class Inspector : ReceiveActor, IWithTimers
{
    public const string Name = "bank-inspector";

    /// <summary>How long `bank cluster tail` waits on the node for a membership event before it answers with none.</summary>
    private static readonly TimeSpan TailWait = TimeSpan.FromSeconds(3);

    private static readonly string[] ShardTypes = [BankConstants.AccountShardType, BankConstants.TransferShardType];

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly Dictionary<Address, DateTimeOffset> _upSince = [];
    private readonly List<MembershipEvent> _events = [];
    // Since when each tail waits, as a monotonic timestamp: a wall clock set back would keep it waiting.
    private readonly List<(long After, IActorRef ReplyTo, long Since)> _waiting = [];
    private readonly TimeSpan _timeout;
    private long _seq;

    private readonly ResourceSet _resources;

    public Inspector(TimeSpan timeout, ResourceSet resources)
    {
        _timeout = timeout;
        _resources = resources;
        Receive<GetClusterView>(_ => Sender.Tell(View()));
        Receive<ChangeMembership>(Change);
        Receive<GetMembershipEvents>(Tail);
        Receive<FlushWaiting>(_ => Flush());
        Receive<ClusterEvent.IMemberEvent>(Record);
        Receive<ClusterEvent.IReachabilityEvent>(Record);
        Receive<GetShards>(Shards);
        Receive<GetLocalShards>(LocalShards);
        Receive<GetActorTree>(Tree);
        Receive<GetNodeInfo>(_ => Sender.Tell(new NodeInfo(_cluster.SelfAddress.ToString(), Environment.ProcessorCount,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, [.. _cluster.SelfRoles.Order(StringComparer.Ordinal)], _resources.Amounts,
            AccountInstances.For(Context.System).Running)));
        Receive<GetClusterStatus>(_ => Status());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(TimeSpan timeout, ResourceSet resources) => Props.Create(() => new Inspector(timeout, resources));

    /// <summary>
    /// Every Up member's advertised resources, what the actors placed on it hold (the placement coordinator's
    /// reservations), and how many account instances it runs, asked of each node's inspector and of the coordinator at once.
    /// </summary>
    private void Status()
    {
        var nodes = _cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving).Select(m => m.Address).ToList();
        var timeout = _timeout;
        var reservations = ActorRegistry.For(Context.System).TryGet<PlacementCoordinatorKey>(out var placement)
            ? placement.Ask<Reservations>(GetReservations.Instance, timeout)
            : Task.FromResult(new Reservations([], 0));
        var asks = nodes.Select(async node =>
        {
            try
            {
                return await Context.ActorSelection(InspectorPath(node)).Ask<NodeInfo>(GetNodeInfo.Instance, timeout);
            }
            catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException)
            {
                return null;
            }
        }).ToList();
        StatusAsync().PipeTo(Sender);

        async Task<ClusterStatus> StatusAsync()
        {
            var infos = await Task.WhenAll(asks);
            Reservations held;
            try
            {
                held = await reservations;
            }
            catch (AskTimeoutException)
            {
                // The coordinator is moving to another node: the resources show as free until it answers again.
                held = new Reservations([], 0);
            }

            var byNode = held.Nodes.ToDictionary(n => n.Node, StringComparer.Ordinal);
            return new ClusterStatus([.. infos.OfType<NodeInfo>().Select(info =>
            {
                var total = ResourceSet.From(info.Resources);
                var used = byNode.TryGetValue(info.Address, out var reservation) ? ResourceSet.From(reservation.Used) : ResourceSet.Empty;
                used = total.Amounts.Keys.Aggregate(used, (all, name) => all.With(name, used[name]));
                return new NodeStatus(info.Address, info.Roles, info.Actors, total.Amounts, used.Amounts, total.Minus(used).Amounts,
                    reservation?.Placed ?? 0);
            })], held.Pending);
        }
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer(nameof(FlushWaiting), FlushWaiting.Instance, TimeSpan.FromMilliseconds(250));
        if (ActorRegistry.For(Context.System).TryGet<PlacementCoordinatorKey>(out var placement))
            placement.Tell(new NodeAdvertised(_cluster.SelfAddress.ToString(), _resources.Amounts));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private ClusterView View()
    {
        var state = _cluster.State;
        var up = state.Members.Where(m => m.Status == MemberStatus.Up).ToList();
        var oldest = up.Count == 0 ? null : up.Aggregate((a, b) => b.IsOlderThan(a) ? b : a).Address;
        var members = state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).Select(m => new MemberView(
            m.Address.ToString(),
            m.Status.ToString(),
            [.. m.Roles.Order(StringComparer.Ordinal)],
            !state.Unreachable.Contains(m),
            m.Address.Equals(state.Leader),
            m.Address.Equals(oldest),
            m.Status == MemberStatus.Up && _upSince.TryGetValue(m.Address, out var since) ? since : null)).ToList();
        return new ClusterView(_cluster.SelfAddress.ToString(), members);
    }

    private void Change(ChangeMembership change)
    {
        if (change.Action == ChangeMembership.DownUnreachable)
        {
            var unreachable = _cluster.State.Unreachable.Select(m => m.Address).ToList();
            foreach (var address in unreachable) _cluster.Down(address);
            Sender.Tell(new MembershipChanged(change.Action, [.. unreachable.Select(a => a.ToString())]));
            return;
        }

        var target = ParseAddress(change.Address, _cluster.SelfAddress.Protocol);
        var member = target is null ? null : _cluster.State.Members.FirstOrDefault(m => m.Address.Equals(target));
        if (member is null)
        {
            Sender.Tell(new Rejected(ErrorKind.ActorNotFound, "NoSuchNode",
                $"no member at {Domain.TextEcho.OneLine(change.Address ?? "")} in the cluster; `bank cluster show` lists them"));
            return;
        }

        if (change.Action == ChangeMembership.Leave) _cluster.Leave(member.Address);
        else _cluster.Down(member.Address);
        Sender.Tell(new MembershipChanged(change.Action, [member.Address.ToString()]));
    }

    /// <summary>
    /// HOST:PORT, or a full akka.tcp://bank@HOST:PORT address; HOST:PORT takes <paramref name="protocol"/>, the scheme of
    /// the asking node's cluster (akka.ssl.tcp with TLS), so it names the same member as the address it stands for.
    /// </summary>
    public static Address? ParseAddress(string? text, string protocol = "akka.tcp")
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (text.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                return Address.Parse(text);
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException)
            {
                return null;
            }
        }

        var colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text[(colon + 1)..], out var port) && port is > 0 and <= 65535
            ? new Address(protocol, BankConstants.ActorSystemName, text[..colon], port)
            : null;
    }

    private void Record(ClusterEvent.IClusterDomainEvent evt)
    {
        var (kind, member) = evt switch
        {
            ClusterEvent.MemberUp e => ("up", e.Member),
            ClusterEvent.MemberJoined e => ("joined", e.Member),
            ClusterEvent.MemberWeaklyUp e => ("weakly-up", e.Member),
            ClusterEvent.MemberLeft e => ("left", e.Member),
            ClusterEvent.MemberExited e => ("exited", e.Member),
            ClusterEvent.MemberDowned e => ("downed", e.Member),
            ClusterEvent.MemberRemoved e => ("removed", e.Member),
            ClusterEvent.UnreachableMember e => ("unreachable", e.Member),
            ClusterEvent.ReachableMember e => ("reachable", e.Member),
            _ => (null, null),
        };
        if (kind is null || member is null) return;
        var now = DateTimeOffset.UtcNow;
        if (kind == "up") _upSince[member.Address] = now;
        if (kind == "removed") _upSince.Remove(member.Address);
        _events.Add(new MembershipEvent(++_seq, now, kind, member.Address.ToString(), member.Status.ToString()));
        if (_events.Count > 1000) _events.RemoveRange(0, _events.Count - 1000);
        Flush();
    }

    private void Tail(GetMembershipEvents get)
    {
        if (_events.Any(e => e.Seq > get.After))
        {
            Sender.Tell(EventsAfter(get.After));
            return;
        }

        _waiting.Add((get.After, Sender, TimeProvider.System.GetTimestamp()));
    }

    /// <summary>Answers the tails that have news, and those that waited long enough with none.</summary>
    private void Flush()
    {
        foreach (var waiter in _waiting.ToList())
        {
            if (!_events.Any(e => e.Seq > waiter.After) && TimeProvider.System.GetElapsedTime(waiter.Since) < TailWait) continue;
            waiter.ReplyTo.Tell(EventsAfter(waiter.After));
            _waiting.Remove(waiter);
        }
    }

    private MembershipEvents EventsAfter(long after) => new(_seq, [.. _events.Where(e => e.Seq > after)]);

    /// <summary>Asks every member's inspector for its regions, all at once; a node that does not answer is left out.</summary>
    private void Shards(GetShards get)
    {
        var nodes = _cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.Leaving)
            .Select(m => m.Address).ToList();
        var asks = nodes.Select(async node =>
        {
            try
            {
                return await Context.ActorSelection(InspectorPath(node)).Ask<ShardsView>(
                    new GetLocalShards(get.Type, get.Entities, get.After, get.Limit), _timeout);
            }
            catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException)
            {
                return new ShardsView([]);
            }
        }).ToList();
        Task.WhenAll(asks).PipeTo(Sender, success: all => ShardPages.Merge(all, get));
    }

    private void LocalShards(GetLocalShards get)
    {
        var node = _cluster.SelfAddress.ToString();
        var sharding = ClusterSharding.Get(Context.System);
        var types = ShardTypes.Where(t => get.Type is null || t == get.Type).Where(t => sharding.ShardTypeNames.Contains(t)).ToList();
        var timeout = _timeout;
        var asks = types.Select(async type =>
        {
            CurrentShardRegionState state;
            try
            {
                state = await sharding.ShardRegion(type).Ask<CurrentShardRegionState>(GetShardRegionState.Instance, timeout);
            }
            catch (AskTimeoutException)
            {
                // A region too busy to answer is left out rather than failing the whole answer.
                return null;
            }

            return new ShardPages.Region(type, [.. state.Shards.Select(s => (s.ShardId, (IReadOnlyCollection<string>)s.EntityIds))]);
        }).ToList();
        Task.WhenAll(asks).PipeTo(Sender, success: regions => ShardPages.Local(node, [.. regions.OfType<ShardPages.Region>()], get));
    }

    /// <summary>The actors under a path of this node (or, with a node given, of that node), to a depth.</summary>
    private void Tree(GetActorTree get)
    {
        if (get.Node is not null)
        {
            var node = ParseAddress(get.Node, _cluster.SelfAddress.Protocol);
            if (node is null || !_cluster.State.Members.Any(m => m.Address.Equals(node)))
            {
                Sender.Tell(new Rejected(ErrorKind.ActorNotFound, "NoSuchNode",
                    $"no member at {Domain.TextEcho.OneLine(get.Node)} in the cluster; `bank cluster show` lists them"));
                return;
            }

            if (!node.Equals(_cluster.SelfAddress))
            {
                Context.ActorSelection(InspectorPath(node)).Ask<object>(get with { Node = null }, _timeout)
                    .PipeTo(Sender, failure: e => new Rejected(ErrorKind.ClusterUnreachable, "Timeout", $"the node at {get.Node} did not answer: {e.Message}"));
                return;
            }
        }

        var provider = ((ExtendedActorSystem)Context.System).Provider;
        var path = string.IsNullOrWhiteSpace(get.Path) || get.Path == "/" ? "/" : "/" + get.Path.Trim('/');
        var root = path == "/" ? provider.RootGuardian : provider.ResolveActorRef(provider.RootGuardian.Path + path.TrimStart('/'));
        if (root is not ActorRefWithCell || root.IsNobody())
        {
            Sender.Tell(new Rejected(ErrorKind.ActorNotFound, "NoSuchActor", $"no actor at {Domain.TextEcho.OneLine(path)} on {_cluster.SelfAddress}"));
            return;
        }

        var budget = 5000;
        Sender.Tell(new ActorTree(_cluster.SelfAddress.ToString(), Walk(root, Math.Clamp(get.Depth, 0, 50), ref budget)));
    }

    /// <summary>Reads the live tree from the actors' own children containers, at most <paramref name="budget"/> actors.</summary>
    private static ActorNode Walk(IActorRef actor, int depth, ref int budget)
    {
        budget--;
        var name = actor.Path.Elements.Count == 0 ? "/" : actor.Path.Name;
        var path = actor.Path.ToStringWithoutAddress();
        if (actor is not ActorRefWithCell withCell) return new ActorNode(name, path, []);
        var children = withCell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal).ToList();
        if (depth == 0 || budget <= 0) return new ActorNode(name, path, [], children.Count);
        var nodes = new List<ActorNode>();
        foreach (var child in children)
        {
            if (budget <= 0) break;
            nodes.Add(Walk(child, depth - 1, ref budget));
        }

        return new ActorNode(name, path, nodes, children.Count - nodes.Count);
    }

    /// <summary>Where the inspector of a node is.</summary>
    public static string InspectorPath(Address node) => $"{node}/user/{Name}";

    private sealed record FlushWaiting
    {
        public static readonly FlushWaiting Instance = new();
    }
}

public static class InspectorHostingExtensions
{
    /// <summary>Starts this node's inspector; the gateway passes it the inspection requests of clients.</summary>
    /// <param name="resources">What this node advertises, for `bank status` and the dashboard.</param>
    public static AkkaConfigurationBuilder WithInspection(this AkkaConfigurationBuilder builder, ResourceSet resources) =>
        builder.WithActors((system, registry) =>
        {
            var timeout = system.Settings.Config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10));
            registry.Register<InspectorKey>(system.ActorOf(Inspector.PropsFor(timeout, resources), Inspector.Name));
        });
}

/// <summary>ActorRegistry key of this node's inspector.</summary>
public sealed class InspectorKey;
