using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Pattern;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Gateway;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Registry;

/// <summary>
/// The registry of named actors: name to account key and incarnation id, with lifetimes and death causes. Event-sourced,
/// so names survive a full cluster restart; it runs as a cluster singleton and talks to accounts only through the shard
/// region. What it decides, <see cref="RegistryState.Decide"/> decides; this actor receives, persists, applies and replies.
/// </summary>
public sealed partial class NameRegistry : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _accounts;
    private readonly RegistrySettings _settings;
    private readonly OpenRequests _opens = new();
    private readonly ClientRequests _replies = new(1024);
    private readonly SessionOwners _owners;
    private readonly RestartBoard _restarts = new();
    private readonly AccountCloser _closer;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private RegistryState _state;
    private RegistrySnapshotPolicy _snapshots;
    private readonly long _started;

    public NameRegistry(IActorRef accounts, RegistrySettings settings)
    {
        _accounts = accounts;
        _settings = settings;
        _state = RegistryState.Empty(settings.KeepDead);
        _snapshots = new RegistrySnapshotPolicy(settings.SnapshotEvery);
        _started = settings.Clock.GetTimestamp();
        _owners = new SessionOwners(settings.OwnerTimeout, Elapsed());
        _closer = new AccountCloser(InFlightCalls.For(Context.System), accounts, settings.AskTimeout, _log);

        Recover<SnapshotOffer>(offer =>
        {
            var snapshot = offer.Snapshot as RegistrySnapshot ?? throw new InvalidOperationException(
                $"Registry snapshot is a {offer.Snapshot.GetType().Name}, not a {nameof(RegistrySnapshot)}");
            _state = RegistryState.FromSnapshot(snapshot, settings.KeepDead);
            _snapshots = _snapshots.Taken(offer.Metadata.SequenceNr, _state.SnapshotSize);
        });
        Recover<IRegistryEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            ReleaseOrphans();
            Publish();
            // A coordinator that outlived the registry's last life starts again from what the actors hold now.
            Coordinator.Tell(KnownPlacements());
        });

        Command<OpenActor>(Open);
        Command<CreationResult>(Created);
        Command<KillActor>(Kill);
        Command<ActorRestarting>(restarting =>
        {
            if (_state.LiveByKey(restarting.Key, restarting.Id) is { } actor) _restarts.Restarting(actor.Id, restarting.Restarts, Elapsed());
        });
        Command<ActorRestartCompleted>(completed =>
        {
            _restarts.Done(completed.Id);
            Execute(_state.Decide(new CompleteRestart(completed.Key, completed.Id, completed.Restarts), DateTimeOffset.UtcNow), Sender);
        });
        Command<ActorFailed>(Failed);
        Command<OwnerEnded>(EndOwner);
        Command<OwnerHeartbeat>(beat => _owners.Heartbeat(beat.Owner, Elapsed()));
        Command<CheckOwners>(_ => ReleaseGoneOwners());
        Command<OrphansReleased>(released => Execute(released.Decision, ActorRefs.Nobody, applied: true));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f =>
            _log.Warning(f.Cause, "Registry snapshot at {SequenceNr} failed; recovery replays more events", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Info("Old registry snapshots were not deleted: {Reason}", f.Cause.Message));
        PlacementCommands();
        ListingCommands();
    }

    public override string PersistenceId => BankConstants.RegistryPersistenceId;

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer(nameof(CheckOwners), CheckOwners.Instance, _settings.HeartbeatInterval);
    }

    /// <summary>
    /// Time since this registry started, on the settings' monotonic clock: what owners' liveness is decided with, so a
    /// wall clock set forward (NTP, a VM resumed) declares no owner dead. Death and creation times stay wall-clock: people read them.
    /// </summary>
    private TimeSpan Elapsed() => _settings.Clock.GetElapsedTime(_started);

    public static Props PropsFor(IActorRef accounts, RegistrySettings settings) =>
        Props.Create(() => new NameRegistry(accounts, settings));

    /// <summary>
    /// The registry under a backoff supervisor: if its journal fails, it stops and comes back after a backoff,
    /// recovering its table of names, instead of staying dead for the rest of the process.
    /// </summary>
    public static Props SupervisedPropsFor(IActorRef accounts, RegistrySettings settings) =>
        BackoffSupervisor.Props(Backoff.OnStop(PropsFor(accounts, settings), "registry",
            settings.MinBackoff, settings.MaxBackoff, randomFactor: 0.2, maxNrOfRetries: -1));

    /// <summary>
    /// Names the owner of a session opened inside a node: the node's unique address (address and uid), so the
    /// session dies with that node, and with an earlier life of it after a restart.
    /// </summary>
    public static string OwnerFor(ActorSystem system, string session) =>
        SessionOwners.OfNode(UniqueNode(Cluster.Get(system).SelfUniqueAddress), session);

    /// <summary>Names the owner of a session of a client outside the cluster: it lives while its heartbeats do.</summary>
    public static string ClientOwner(string session) => SessionOwners.OfClient(session);

    private static string UniqueNode(UniqueAddress node) => $"{node.Address}#{node.Uid}";

    /// <summary>The nodes (address#uid) whose sessions are alive: this one, and every member not yet downed or removed.</summary>
    private HashSet<string> MemberNodes() =>
    [
        UniqueNode(_cluster.SelfUniqueAddress),
        .. _cluster.State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting)
            .Select(m => UniqueNode(m.UniqueAddress)),
    ];

    private void Open(OpenActor open)
    {
        var asked = ClientRequests.Of(open);
        if (_replies.Recall(open.RequestId, asked) is { } answered)
        {
            Sender.Tell(answered);
            return;
        }

        if (_opens.FindByRequestId(open.RequestId) is { } underWay)
        {
            // The same open again while it is under way (its account being created, or its registration being written)
            // waits for the first one's answer; another request under its id is refused.
            if (ClientRequests.Of(underWay) == asked) _opens.Wait(underWay.Name, Sender);
            else Sender.Tell(ClientRequests.Reused(open.RequestId!, ClientRequests.Of(underWay)));
            return;
        }

        var command = new OpenName(open.Name, open.Key, open.Detached, open.GetIfExists, open.Owner, open.RequestId, open.MaxRestarts,
            open.MaxTaskRetries, ResourceSet.From(open.Resources), Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
        var decision = _state.Decide(command, DateTimeOffset.UtcNow);
        var reserved = decision.Changes.OfType<OpenReserved>().Any();
        if (reserved) _opens.Start(open, Sender);
        Execute(decision, Sender);
        // A new open that holds resources starts on a node that has them free, else it waits (PENDING_CREATION) for one;
        // a resent or refused open of a waiting name asks for nothing again.
        if (reserved && !decision.Create && _state.Pending.TryGetValue(open.Name, out var pending) && pending.WaitsForNode) Reserve(pending);
    }

    private void Kill(KillActor kill)
    {
        var asked = ClientRequests.Of(kill);
        if (_replies.Recall(kill.RequestId, asked) is { } answered) Sender.Tell(answered);
        else if (_replies.JoinUnderWay(kill.RequestId, asked, Sender, out var reused))
        {
            // Resent while its death is being written: it gets the first answer, once that is durable.
            if (reused is not null) Sender.Tell(reused);
        }
        else
        {
            _replies.Start(kill.RequestId, asked);
            Execute(_state.Decide(new KillName(kill.Name, kill.Cause, kill.Id), DateTimeOffset.UtcNow), Sender, (kill.RequestId, asked));
        }
    }

    /// <summary>Opens the account of an open under way, on the node chosen for its resources when it holds any.</summary>
    private void Create(string name)
    {
        if (!_state.Pending.TryGetValue(name, out var pending) || _opens.Find(name) is not { } open) return;
        _opens.Attempt(name);
        var id = pending.Id;
        InFlightCalls.For(Context.System)
            .CallAsync(_accounts, new AccountRequest(pending.Key, pending.Id,
                new OpenAccount(open.Balance, open.MinimalBalance, pending.Id, open.MaxRestarts, open.MaxTaskRetries, pending.Resources.ToAmounts()),
                pending.Node), _settings.AskTimeout / OpenAttempts)
            .PipeTo(Self,
                success: reply => new CreationResult(name, id, reply, Retry: reply is Rejected { Code: "Moving" }),
                failure: ex => new CreationResult(name, id, Unreachable(ex), Retry: ex is AskTimeoutException));
    }

    /// <summary>Tries of one open, each a third of the ask timeout, so all of them fit in the client's own wait.</summary>
    private const int OpenAttempts = 3;

    private void Created(CreationResult result)
    {
        if (!_state.Pending.TryGetValue(result.Name, out var pending) || pending.Id != result.Id) return;
        if (result.Retry && _opens.Attempts(result.Name) < OpenAttempts)
        {
            // The open (or its answer) was lost, e.g. in a shard's hand-off: the same open again is safe, its
            // incarnation id makes the account apply it once.
            Create(result.Name);
            return;
        }

        if (result.Reply is AccountReply reply)
        {
            Execute(_state.Decide(new ConfirmCreation(result.Name, result.Id, reply.Node), DateTimeOffset.UtcNow), ActorRefs.Nobody);
            return;
        }

        Execute(_state.Decide(new AbandonOpen(result.Name, AccountRefused: true), DateTimeOffset.UtcNow), ActorRefs.Nobody);
        if (_opens.ReplyAll(result.Name, result.Reply) is { } open) _replies.Remember(open.RequestId, ClientRequests.Of(open), result.Reply);
    }

    /// <summary>The actor used up its restarts: DEAD with MAX_RESTARTS_EXCEEDED; its supervisor journals the close.</summary>
    private void Failed(ActorFailed failed)
    {
        _restarts.Done(failed.Id);
        var decision = _state.Decide(new ExhaustRestarts(failed.Key, failed.Id, failed.Restarts), DateTimeOffset.UtcNow);
        Execute(decision with { Reply = new ActorFailureRecorded(failed.Key, failed.Id) }, Sender);
    }

    private void EndOwner(OwnerEnded ended)
    {
        var now = DateTimeOffset.UtcNow;
        var decision = _state.Decide(new EndOwner(ended.Owner), now);
        Execute(decision, Sender);
        // Its opens that still wait for a node end now, with OWNER_DIED.
        foreach (var orphaned in decision.Changes.OfType<OpenOrphaned>())
            if (_state.Pending.TryGetValue(orphaned.Name, out var open) && open.WaitsForNode)
                Execute(_state.Decide(new AbandonOpen(open.Name), now), ActorRefs.Nobody);
    }

    private void ReleaseGoneOwners()
    {
        var elapsed = Elapsed();
        var members = MemberNodes();
        var decision = _state.Decide(new ReleaseGoneOwners(owner => _owners.IsGone(owner, elapsed, members)), DateTimeOffset.UtcNow);
        _owners.ForgetGone(elapsed);
        Execute(decision, ActorRefs.Nobody);
    }

    /// <summary>
    /// Owners of this node's earlier lives are gone, so their actors die now. The deaths are applied at once, before
    /// any request that waited for recovery is answered; they reach the journal with the next command.
    /// </summary>
    private void ReleaseOrphans()
    {
        var members = MemberNodes();
        var decision = _state.Decide(
            new ReleaseGoneOwners(owner => SessionOwners.IsNodeOwner(owner) && !members.Contains(SessionOwners.NodeOf(owner))),
            DateTimeOffset.UtcNow);
        if (decision.Events.Count == 0) return;
        foreach (var death in decision.Events) _state = _state.Apply(death);
        Self.Tell(new OrphansReleased(decision));
    }

    /// <summary>The registry's figures for the gauges of this node (<see cref="NodeFigures"/>), while it runs here.</summary>
    private void Publish()
    {
        var figures = NodeFigures.For(Context.System);
        figures.AliveAccounts = _state.Live.Count;
        figures.PendingActors = _state.Pending.Count;
    }

    protected override void PostStop()
    {
        // The singleton moved on: its next node reports the figures.
        var figures = NodeFigures.For(Context.System);
        figures.AliveAccounts = -1;
        figures.PendingActors = -1;
        base.PostStop();
    }

    /// <summary>The registry's answer as a message of the wire.</summary>
    private static object ToMessage(object answer) => answer switch
    {
        RegistryRefusal refusal => new Rejected(refusal.Kind switch
        {
            RegistryRefusalKind.Usage => ErrorKind.Usage,
            RegistryRefusalKind.AlreadyExists => ErrorKind.AlreadyExists,
            RegistryRefusalKind.NotFound => ErrorKind.ActorNotFound,
            _ => ErrorKind.ActorDied,
        }, refusal.Code, refusal.Message),
        OwnerActorsReleased released => new OwnerReleased(released.Owner, released.Count),
        _ => answer,
    };

    /// <summary>The actor's state as `bank list` shows it: PENDING_CREATION without a node, RESTARTING while restarted.</summary>
    private ActorInfo Shown(ActorInfo actor) =>
        actor.State == ActorState.Alive && IsUnplaced(actor.Id)
            ? actor with { State = ActorState.PendingCreation, Node = string.Empty }
            : _restarts.Show(actor, Elapsed());

    private IEnumerable<ActorInfo> PendingInfos() =>
        _state.Pending.Values.Select(p => p.ToInfo(ActorState.PendingCreation, p.Node ?? string.Empty, p.Since) with { Owner = p.Owner });

    private Rejected Unreachable(Exception ex) =>
        new(ErrorKind.ClusterUnreachable, nameof(ErrorKind.ClusterUnreachable),
            ex is AskTimeoutException
                ? $"the account did not answer within {_settings.AskTimeout.TotalSeconds:0.#} s"
                : $"the account could not be reached: {ex.Message}");

    private sealed record CreationResult(string Name, string Id, object Reply, bool Retry = false);

    private sealed record OrphansReleased(RegistryDecision Decision);

    private sealed record CheckOwners
    {
        public static readonly CheckOwners Instance = new();
    }
}
