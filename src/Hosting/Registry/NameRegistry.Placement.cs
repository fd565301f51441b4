using Akka.Actor;
using Akka.Cluster;
using Bank.Domain;

namespace Bank.Hosting.Registry;

// Interim: the placement engine, as it ran inside the registry, until the placement coordinator takes it over.
public sealed partial class NameRegistry
{
    private readonly Dictionary<string, ResourceSet> _capacities = new(StringComparer.Ordinal);
    private readonly HashSet<string> _askingCapacity = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _unplaced = new(StringComparer.Ordinal);
    private readonly HashSet<string> _departing = new(StringComparer.Ordinal);

    private static readonly TimeSpan PlacementRetryInterval = TimeSpan.FromMilliseconds(500);

    private void PlacementCommands()
    {
        Command<ClusterEvent.CurrentClusterState>(_ => MembershipChanged());
        Command<ClusterEvent.MemberUp>(up =>
        {
            _capacities.Remove(up.Member.Address.ToString());
            MembershipChanged();
        });
        Command<ClusterEvent.IMemberEvent>(_ => MembershipChanged());
        Command<CapacityLearned>(Learned);
        Command<CapacityUnknown>(unknown => _askingCapacity.Remove(unknown.Node));
        Command<RetryPlacements>(_ => RetryPlacement());
        Command<WhereToRun>(Where);
        Command<GetReservations>(_ => Sender.Tell(CurrentReservations()));
    }

    private void StartPlacement()
    {
        Timers.StartPeriodicTimer(nameof(RetryPlacements), RetryPlacements.Instance, PlacementRetryInterval);
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
    }

    private bool IsUnplaced(string id) => _unplaced.ContainsKey(id);

    private void TryPlace(PendingOpen pending)
    {
        if (Placement.Choose(Candidates(), pending.Resources) is not { } node) return;
        _state = _state.Apply(new OpenPlaced(pending.Name, node));
        Create(pending.Name);
    }

    private IEnumerable<Member> UpMembers() => _cluster.State.Members.Where(m => m.Status == MemberStatus.Up);

    private List<NodeCapacity> Candidates()
    {
        var unreachable = _cluster.State.Unreachable.Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal);
        return UpMembers()
            .Select(m => m.Address.ToString())
            .Where(node => !unreachable.Contains(node) && !_departing.Contains(node) && _capacities.ContainsKey(node))
            .Select(node => new NodeCapacity(node, _capacities[node], Used(node)))
            .ToList();
    }

    private ResourceSet Used(string node) =>
        _state.Live.Values.Where(a => a.Node == node && a.Resources is not null && !_unplaced.ContainsKey(a.Id)).Select(a => a.Held)
            .Concat(_state.Pending.Values.Where(p => p.Node == node).Select(p => p.Resources))
            .Aggregate(ResourceSet.Empty, (sum, held) => sum.Plus(held));

    private void MembershipChanged()
    {
        var members = _cluster.State.Members.Where(m => m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp
            or MemberStatus.Up or MemberStatus.Leaving).Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _capacities.Keys.Where(node => !members.Contains(node)).ToList())
            _capacities.Remove(gone);
        _departing.RemoveWhere(node => !members.Contains(node));
        AskCapacities();

        var now = DateTimeOffset.UtcNow;
        foreach (var actor in _state.Live.Values.Where(a => a.Resources is not null && !members.Contains(a.Node)))
            _unplaced.TryAdd(actor.Id, now);
        RetryPlacement();
    }

    private void AskCapacities()
    {
        var timeout = _settings.AskTimeout;
        foreach (var member in UpMembers().Where(m => !_capacities.ContainsKey(m.Address.ToString())))
        {
            var node = member.Address.ToString();
            if (!_askingCapacity.Add(node)) continue;
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / Inspection.Inspector.Name)
                .Ask<Inspection.NodeInfo>(Inspection.GetNodeInfo.Instance, timeout)
                .PipeTo(Self,
                    success: info => new CapacityLearned(node, ResourceSet.From(info.Resources)),
                    failure: _ => new CapacityUnknown(node));
        }
    }

    private void Learned(CapacityLearned learned)
    {
        _askingCapacity.Remove(learned.Node);
        if (!UpMembers().Any(m => m.Address.ToString() == learned.Node)) return;
        _capacities[learned.Node] = learned.Resources;
        RetryPlacement();
    }

    private void RetryPlacement()
    {
        AskCapacities();
        var now = DateTimeOffset.UtcNow;
        foreach (var pending in _state.Pending.Values.Where(p => p.WaitsForNode).OrderBy(p => p.Since).ToList())
        {
            if (pending.OwnerEnded)
                Execute(_state.Decide(new AbandonOpen(pending.Name), now), ActorRefs.Nobody);
            else if (Placement.Choose(Candidates(), pending.Resources) is { } node)
            {
                _state = _state.Apply(new OpenPlaced(pending.Name, node));
                Create(pending.Name);
            }
            else if (now - pending.Since >= _settings.PendingTimeout)
            {
                var reason = Placement.NoNodeFits(pending.Name, pending.Resources, Candidates(), now - pending.Since);
                Execute(_state.Decide(new FailCreation(pending.Name, reason), now), ActorRefs.Nobody);
            }
        }

        foreach (var (id, _) in _unplaced.OrderBy(u => u.Value).ToList())
        {
            var actor = _state.Live.Values.FirstOrDefault(a => a.Id == id);
            if (actor is null)
            {
                _unplaced.Remove(id);
                continue;
            }

            if (Placement.Choose(Candidates(), actor.Held) is not { } node) continue;
            _unplaced.Remove(id);
            var placed = new ActorPlaced(actor.Name, actor.Id, node);
            _state = _state.Apply(placed);
            Persist(placed, _ => MaybeSnapshot());
        }
    }

    private void Where(WhereToRun where)
    {
        if (_state.LiveByKey(where.Key, where.Incarnation) is not { Resources: not null } actor)
        {
            Sender.Tell(new NotPlaced(where.Key, where.Incarnation));
            return;
        }

        var now = DateTimeOffset.UtcNow;
        if (where.Leaving is { } leaving) _departing.Add(leaving);
        if (!_unplaced.ContainsKey(actor.Id))
        {
            if (!_departing.Contains(actor.Node) && UpMembers().Any(m => m.Address.ToString() == actor.Node))
            {
                Sender.Tell(new RunAt(where.Key, where.Incarnation, actor.Node));
                return;
            }

            _unplaced[actor.Id] = now;
        }

        var since = _unplaced[actor.Id];
        if (Placement.Choose(Candidates(), actor.Held) is not { } node)
        {
            Sender.Tell(new PlacementPending(where.Key, where.Incarnation,
                Placement.NoNodeFits(actor.Name, actor.Held, Candidates(), now - since), since));
            return;
        }

        _unplaced.Remove(actor.Id);
        var asker = Sender;
        Persist(new ActorPlaced(actor.Name, actor.Id, node), evt =>
        {
            _state = _state.Apply(evt);
            MaybeSnapshot();
            asker.Tell(new RunAt(where.Key, where.Incarnation, node));
        });
    }

    private Reservations CurrentReservations()
    {
        var nodes = UpMembers().Select(m => m.Address.ToString())
            .Concat(_state.Live.Values.Where(a => a.Resources is not null && !_unplaced.ContainsKey(a.Id)).Select(a => a.Node))
            .Distinct(StringComparer.Ordinal)
            .Select(node => new NodeReservation(node, Used(node).Amounts,
                _state.Live.Values.Count(a => a.Node == node && a.Resources is not null && !_unplaced.ContainsKey(a.Id))))
            .ToList();
        return new Reservations(nodes, _unplaced.Count + _state.Pending.Values.Count(p => p.WaitsForNode));
    }

    private sealed record RetryPlacements
    {
        public static readonly RetryPlacements Instance = new();
    }

    private sealed record CapacityLearned(string Node, ResourceSet Resources);

    private sealed record CapacityUnknown(string Node);
}
