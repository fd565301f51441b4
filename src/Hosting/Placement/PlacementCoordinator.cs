using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;

namespace Bank.Hosting.Placement;

/// <summary>
/// Places the actors that ask for resources (Ray's num_cpus, num_gpus, memory, custom ones). It learns what every Up
/// node advertises from that node's own inspector, reserves an actor's resources on a node that has them free for as
/// long as the actor lives, keeps an open PENDING_CREATION while no node fits (up to the pending timeout), and places
/// again the actors of a node that leaves, only where they fit. A cluster singleton beside the registry; what it
/// decides, <see cref="PlacementBook"/> decides. It keeps no journal: it starts from what the registry's actors hold.
/// Waits are timed on its own monotonic clock from when it saw them begin, never from another process's wall-clock instant.
/// </summary>
public sealed class PlacementCoordinator : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>How often waiting actors are tried again, and nodes whose resources are unknown asked again.</summary>
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a node's inspector has to answer: one that is not started yet is asked again soon.</summary>
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(2);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly PlacementSettings _settings;
    private readonly HashSet<string> _asking = new(StringComparer.Ordinal);
    private PlacementBook _book = PlacementBook.Empty;
    private IActorRef _registry = ActorRefs.Nobody;
    private readonly long _started;

    public PlacementCoordinator(PlacementSettings settings)
    {
        _settings = settings;
        _started = settings.Clock.GetTimestamp();
        Loading();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props PropsFor(PlacementSettings settings) => Props.Create(() => new PlacementCoordinator(settings));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(nameof(Retry), Retry.Instance, RetryInterval);
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
        ActorRegistry.For(Context.System).GetAsync<NameRegistryKey>().PipeTo(Self, success: registry => new RegistryFound(registry));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>Time since this coordinator started, on its monotonic clock: what pending waits are timed with.</summary>
    private TimeSpan Elapsed() => _settings.Clock.GetElapsedTime(_started);

    /// <summary>Until the registry said what its actors hold, nothing is placed: a choice now could over-commit a node.</summary>
    private void Loading()
    {
        NodeEvents();
        Receive<RegistryFound>(found =>
        {
            _registry = found.Registry;
            _registry.Tell(GetKnownPlacements.Instance);
        });
        Receive<KnownPlacements>(known =>
        {
            Rebuild(known);
            Become(Ready);
            Stash.UnstashAll();
        });
        Receive<Retry>(_ =>
        {
            AskReports();
            if (!_registry.IsNobody()) _registry.Tell(GetKnownPlacements.Instance);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        NodeEvents();
        Receive<KnownPlacements>(Rebuild);
        Receive<Retry>(_ => RetryPlacements());
        Receive<ReservePlacement>(reserve =>
        {
            var open = new Reservation(reserve.Id, reserve.Name, reserve.Key, ResourceSet.From(reserve.Resources), null, Elapsed(), IsOpen: true);
            (_book, var placed) = _book.Place(open, Nodes());
            if (placed is not null) Tell(placed);
        });
        Receive<ReleasePlacement>(release => _book = _book.Released(release.Id));
        Receive<MoveAnswered>(answered =>
        {
            if (answered.NotRecorded is { } id) _book = _book.MoveNotRecorded(id);
            answered.ReplyTo.Tell(answered.Answer);
        });
        // The registry acknowledges every recorded move; only the moves an account waits on need the answer.
        Receive<PlacementRecorded>(_ => { });
        Receive<WhereToRun>(Where);
        Receive<GetReservations>(_ =>
        {
            var (nodes, waiting) = _book.Held(Nodes());
            Sender.Tell(new Reservations([.. nodes.Select(n => new NodeReservation(n.Node, n.Used.Amounts, n.Placed))], waiting));
        });
    }

    /// <summary>Membership and the nodes' reports, handled while loading too.</summary>
    private void NodeEvents()
    {
        Receive<ClusterEvent.MemberUp>(up =>
        {
            _book = _book.NodeUp(up.Member.Address.ToString());
            MembersChanged();
        });
        Receive<ClusterEvent.CurrentClusterState>(_ => MembersChanged());
        Receive<ClusterEvent.IMemberEvent>(_ => MembersChanged());
        Receive<NodeReported>(reported =>
        {
            _asking.Remove(reported.Node);
            _book = _book.Reported(reported.Node, reported.Resources, Nodes());
            RetryPlacements();
        });
        Receive<NodeAdvertised>(advertised => Self.Tell(new NodeReported(advertised.Node, ResourceSet.From(advertised.Resources))));
        Receive<NodeSilent>(silent => _asking.Remove(silent.Node));
    }

    private PlacementNodes Nodes()
    {
        var state = _cluster.State;
        return new PlacementNodes(
            state.Members.Where(m => m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving)
                .Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal),
            state.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal),
            state.Unreachable.Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// The registry's actors hold what it says; those on nodes that are gone wait for another one. A pending open is timed
    /// from now, when this coordinator first sees it: its CreatedAt is another process's wall clock.
    /// </summary>
    private void Rebuild(KnownPlacements known)
    {
        var now = Elapsed();
        _book = _book.Rebuilt(known.Actors.Select(a => new Reservation(a.Id, a.Name, a.Key, a.Held, a.Node.Length == 0 ? null : a.Node,
            now, IsOpen: a.State == ActorState.PendingCreation)));
        MembersChanged();
    }

    /// <summary>New Up nodes are asked what they have; the actors of nodes that are gone wait for a node that fits.</summary>
    private void MembersChanged()
    {
        (_book, var lost) = _book.MembersChanged(Nodes(), Elapsed());
        foreach (var outcome in lost) Tell(outcome);
        RetryPlacements();
    }

    private void RetryPlacements()
    {
        AskReports();
        (_book, var outcomes) = _book.Retry(Nodes(), Elapsed(), _settings.PendingTimeout);
        foreach (var outcome in outcomes) Tell(outcome);
    }

    /// <summary>Asks the inspector of every Up node whose resources are unknown what it advertises.</summary>
    private void AskReports()
    {
        foreach (var node in _book.Unreported(Nodes()).Where(_asking.Add).ToList())
        {
            Context.ActorSelection(Inspector.InspectorPath(Address.Parse(node)))
                .Ask<NodeInfo>(GetNodeInfo.Instance, ReportTimeout)
                .PipeTo(Self,
                    success: info => new NodeReported(node, ResourceSet.From(info.Resources)),
                    failure: _ => new NodeSilent(node));
        }
    }

    /// <summary>An account's entity asks where its incarnation runs: the node it holds its resources on.</summary>
    private void Where(WhereToRun where)
    {
        var now = Elapsed();
        var wasPlaced = _book.Reservations.TryGetValue(where.Incarnation, out var before) && before.Node is not null;
        (_book, var answer) = _book.Where(where.Key, where.Incarnation, where.Leaving, Nodes(), now);
        if (wasPlaced && _book.IsWaiting(where.Incarnation)) _registry.Tell(new PlacementLost(where.Incarnation));
        switch (answer)
        {
            case RunsOn { Moved: false } on:
                Sender.Tell(new RunAt(where.Key, where.Incarnation, on.Node));
                break;
            case RunsOn moved:
                // Journaled by the registry before the account hears of it, so a failover finds the actor where it runs.
                var reservation = _book.Reservations[where.Incarnation];
                var replyTo = Sender;
                _registry.Ask<PlacementRecorded>(new RecordPlacement(reservation.Name, reservation.Id, moved.Node), _settings.AskTimeout)
                    .PipeTo(Self, success: _ => new MoveAnswered(replyTo, new RunAt(where.Key, where.Incarnation, moved.Node), null),
                        failure: e => new MoveAnswered(replyTo,
                            new PlacementPending(where.Key, where.Incarnation, $"the registry did not record the placement: {e.Message}", _settings.Clock.GetUtcNow()),
                            where.Incarnation));
                break;
            case WaitsForNode waits:
                // The instant is for people; the account times its own wait.
                Sender.Tell(new PlacementPending(where.Key, where.Incarnation, waits.Reason, _settings.Clock.GetUtcNow() - waits.Waited));
                break;
            default:
                Sender.Tell(new NotPlaced(where.Key, where.Incarnation));
                break;
        }
    }

    private void Tell(PlacementOutcome outcome)
    {
        switch (outcome)
        {
            case OpenPlacedOn placed:
                _registry.Tell(new PlaceOpenOn(placed.Id, placed.Node));
                break;
            case OpenUnplaceable failed:
                _registry.Tell(new FailUnplacedOpen(failed.Id, failed.Reason));
                break;
            case ActorMovedTo moved:
                _registry.Tell(new RecordPlacement(moved.Name, moved.Id, moved.Node));
                break;
            case ActorUnplaced lost:
                _registry.Tell(new PlacementLost(lost.Id));
                break;
            default:
                _log.Warning("Placement outcome {Outcome} has no message for the registry", outcome);
                break;
        }
    }

    private sealed record RegistryFound(IActorRef Registry);

    /// <summary>The registry's answer to a move an account waits on: what to tell it, and the move to undo if not recorded.</summary>
    private sealed record MoveAnswered(IActorRef ReplyTo, object Answer, string? NotRecorded);

    private sealed record NodeReported(string Node, ResourceSet Resources);

    private sealed record NodeSilent(string Node);

    private sealed record Retry
    {
        public static readonly Retry Instance = new();
    }
}
