using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Pattern;
using Akka.Persistence;
using Akka.Remote;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

/// <summary>Tunables of the registry, read from <c>bank.registry</c>, <c>bank.accounts</c> and <c>bank.resources</c> in hocon/bank.hocon.</summary>
public sealed record RegistrySettings(
    int SnapshotEvery,
    int KeepDead,
    TimeSpan AskTimeout,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    TimeSpan HeartbeatInterval,
    TimeSpan OwnerTimeout,
    TimeSpan PendingTimeout)
{
    public static RegistrySettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new RegistrySettings(
            SnapshotEvery: Math.Max(1, config.GetInt("bank.registry.snapshot-every", 100)),
            KeepDead: Math.Max(0, config.GetInt("bank.registry.keep-dead", 1000)),
            AskTimeout: config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)),
            MinBackoff: config.GetTimeSpan("bank.registry.min-backoff", TimeSpan.FromSeconds(1)),
            MaxBackoff: config.GetTimeSpan("bank.registry.max-backoff", TimeSpan.FromSeconds(10)),
            HeartbeatInterval: config.GetTimeSpan("bank.client.heartbeat-interval", TimeSpan.FromSeconds(2)),
            OwnerTimeout: config.GetTimeSpan("bank.client.owner-timeout", TimeSpan.FromSeconds(10)),
            PendingTimeout: config.GetTimeSpan("bank.resources.pending-timeout", TimeSpan.FromSeconds(30)));
    }
}

/// <summary>
/// The registry of named actors: name to account key and incarnation id, with lifetimes and death causes.
/// Event-sourced, so names survive a full cluster restart; it runs as a cluster singleton and talks to accounts only
/// through the shard region. Opens are atomic: a name is reserved while its account is being created.
/// Owners are watched: a node-local session dies with its node, a client session with its heartbeats.
/// It also places the actors that ask for resources (Ray's num_cpus, num_gpus, memory, custom ones): it learns what
/// every Up node advertises from that node's inspector, reserves an actor's resources on a node that has them free
/// for as long as the actor lives, and keeps the actor PENDING_CREATION while no node fits, for opens up to the
/// pending timeout. When a node leaves, its actors are placed again, only where they fit.
/// </summary>
public sealed class NameRegistry : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _accounts;
    private readonly RegistrySettings _settings;
    private readonly Dictionary<string, PendingCreation> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _heartbeats = new(StringComparer.Ordinal);
    private readonly RecentReplies _replies = new(1024);
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    // Actors (by incarnation id) whose supervisor is restarting them, with the restart count and when it said so:
    // shown as RESTARTING for a while at most, since a supervisor that stops during its backoff never says it is back.
    private readonly Dictionary<string, (int Restarts, DateTimeOffset At)> _restarting = new(StringComparer.Ordinal);
    private static readonly TimeSpan RestartingShownFor = TimeSpan.FromSeconds(30);
    private RegistryState _state;
    private long _lastSnapshotSequenceNr;
    private int _lastSnapshotSize;
    // What each Up node advertises, learned from its inspector; a node is a candidate for placement once it is known.
    private readonly Dictionary<string, ResourceSet> _capacities = new(StringComparer.Ordinal);
    private readonly HashSet<string> _askingCapacity = new(StringComparer.Ordinal);
    // Live actors holding resources whose node left, by incarnation id, with the time since they wait for another one.
    private readonly Dictionary<string, DateTimeOffset> _unplaced = new(StringComparer.Ordinal);
    // Nodes whose hosts said they are shutting down: no new placement goes there while they finish leaving.
    private readonly HashSet<string> _departing = new(StringComparer.Ordinal);
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public NameRegistry(IActorRef accounts, RegistrySettings settings)
    {
        _accounts = accounts;
        _settings = settings;
        _state = RegistryState.Empty(settings.KeepDead);

        Recover<SnapshotOffer>(offer =>
        {
            var snapshot = offer.Snapshot as RegistrySnapshot ?? throw new InvalidOperationException(
                $"Registry snapshot is a {offer.Snapshot.GetType().Name}, not a {nameof(RegistrySnapshot)}");
            _state = RegistryState.FromSnapshot(snapshot, settings.KeepDead);
            _lastSnapshotSequenceNr = offer.Metadata.SequenceNr;
            _lastSnapshotSize = snapshot.Live.Count + snapshot.Dead.Count;
        });
        Recover<ActorRegistered>(e => _state = _state.Apply(e));
        Recover<ActorDeathRecorded>(e => _state = _state.Apply(e));
        Recover<ActorRestartRecorded>(e => _state = _state.Apply(e));
        Recover<ActorPlaced>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => ReleaseOrphans());

        Command<OpenActor>(Open);
        Command<CreationResult>(Created);
        Command<GetActor>(get => Sender.Tell(_state.Find(get.Name) is { } found ? Shown(found) : Rejected.NotFound(get.Name)));
        Command<KillActor>(Kill);
        Command<ListActors>(_ => Sender.Tell(new ActorList([.. PendingInfos(), .. _state.All().Select(Shown)])));
        Command<ActorRestarting>(Restarting);
        Command<ActorRestartCompleted>(RestartCompleted);
        Command<ActorFailed>(Failed);
        Command<OwnerEnded>(EndOwner);
        Command<OwnerHeartbeat>(beat => _heartbeats[beat.Owner] = DateTimeOffset.UtcNow);
        Command<CheckOwners>(_ => ReleaseGoneOwners());
        Command<ClusterEvent.CurrentClusterState>(_ => MembershipChanged());
        Command<ClusterEvent.MemberUp>(up =>
        {
            // A node that came back on the same address may advertise other resources: it is asked again.
            _capacities.Remove(up.Member.Address.ToString());
            MembershipChanged();
        });
        Command<ClusterEvent.IMemberEvent>(_ => MembershipChanged());
        Command<CapacityLearned>(Learned);
        Command<CapacityUnknown>(unknown => _askingCapacity.Remove(unknown.Node));
        Command<RetryPlacements>(_ => RetryPlacement());
        Command<WhereToRun>(Where);
        Command<GetReservations>(_ => Sender.Tell(CurrentReservations()));
        Command<OrphansReleased>(released => PersistDeaths(released.Actors, released.Deaths, applied: true, requester: null));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f =>
            _log.Warning(f.Cause, "Registry snapshot at {SequenceNr} failed; recovery replays more events", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Info("Old registry snapshots were not deleted: {Reason}", f.Cause.Message));
    }

    public override string PersistenceId => BankConstants.RegistryPersistenceId;

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer(nameof(CheckOwners), CheckOwners.Instance, _settings.HeartbeatInterval);
        Timers.StartPeriodicTimer(nameof(RetryPlacements), RetryPlacements.Instance, PlacementRetryInterval);
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        base.PostStop();
    }

    /// <summary>How often pending actors are tried again, and nodes whose resources are unknown asked again.</summary>
    private static readonly TimeSpan PlacementRetryInterval = TimeSpan.FromMilliseconds(500);

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
    public static string OwnerFor(ActorSystem system, string session)
    {
        var self = Cluster.Get(system).SelfUniqueAddress;
        return $"{NodeOwnerPrefix}{self.Address}#{self.Uid}/{session}";
    }

    /// <summary>Names the owner of a session of a client outside the cluster: it lives while its heartbeats do.</summary>
    public static string ClientOwner(string session) => ClientOwnerPrefix + session;

    private const string NodeOwnerPrefix = "node:";
    private const string ClientOwnerPrefix = "client:";

    /// <summary>A node-local owner is gone when its node (that address with that uid) is no longer a member.</summary>
    private bool IsNodeOwnerGone(string owner)
    {
        // The session id follows the last '/': the address itself contains "akka.tcp://".
        var slash = owner.LastIndexOf('/');
        var node = slash < 0 ? owner[NodeOwnerPrefix.Length..] : owner[NodeOwnerPrefix.Length..slash];
        var cluster = Cluster.Get(Context.System);
        if (node == $"{cluster.SelfUniqueAddress.Address}#{cluster.SelfUniqueAddress.Uid}") return false;
        return !cluster.State.Members.Any(m => m.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp
            or MemberStatus.Leaving or MemberStatus.Exiting && $"{m.UniqueAddress.Address}#{m.UniqueAddress.Uid}" == node);
    }

    /// <summary>A client owner is gone when it has not been heard from for the owner timeout.</summary>
    private bool IsClientOwnerGone(string owner, DateTimeOffset now) =>
        now - _heartbeats.GetValueOrDefault(owner, _startedAt) > _settings.OwnerTimeout;

    private bool IsOwnerGone(string? owner, DateTimeOffset now) => owner switch
    {
        null => false,
        _ when owner.StartsWith(NodeOwnerPrefix, StringComparison.Ordinal) => IsNodeOwnerGone(owner),
        _ when owner.StartsWith(ClientOwnerPrefix, StringComparison.Ordinal) => IsClientOwnerGone(owner, now),
        _ => true,
    };

    private void ReleaseGoneOwners()
    {
        var now = DateTimeOffset.UtcNow;
        var gone = _state.Live.Values.Where(a => !a.Detached && IsOwnerGone(a.Owner, now)).ToList();
        foreach (var owner in _heartbeats.Keys.Where(o => IsClientOwnerGone(o, now)).ToList())
            _heartbeats.Remove(owner);
        if (gone.Count > 0)
            PersistDeaths(gone, Deaths(gone), applied: false, requester: null);
    }

    private void Open(OpenActor open)
    {
        if (_replies.Find(open.RequestId) is { } answered)
        {
            Sender.Tell(answered);
            return;
        }

        var request = ResourceSet.From(open.Resources);
        var problem = Names.ValidateActorName(open.Name) ?? (open.Key is null ? null : Names.ValidateAccountKey(open.Key))
            ?? new Supervision(open.MaxRestarts, open.MaxTaskRetries).Validate() ?? Placement.Validate(request);
        if (problem is not null)
        {
            Sender.Tell(new Rejected(ErrorKind.Usage, nameof(ErrorKind.Usage), problem));
            return;
        }

        if (_state.Find(open.Name) is { } live)
        {
            Sender.Tell(open.GetIfExists ? live : AlreadyExists(open.Name));
            return;
        }

        if (_pending.TryGetValue(open.Name, out var pending))
        {
            if (open.GetIfExists || (open.RequestId is not null && open.RequestId == pending.Request.RequestId))
                pending.Waiters.Add(Sender);
            else Sender.Tell(AlreadyExists(open.Name));
            return;
        }

        var key = open.Key ?? Guid.NewGuid().ToString("N");
        var holder = _state.NameUsingKey(key) ?? _pending.Values.FirstOrDefault(p => p.Key == key)?.Request.Name;
        if (holder is not null)
        {
            Sender.Tell(new Rejected(ErrorKind.AlreadyExists, "KeyInUse", $"Account key '{key}' is in use by actor '{holder}'"));
            return;
        }

        var id = Guid.NewGuid().ToString("N");
        var creation = new PendingCreation(open, key, id, Sender, []) { Resources = request, Since = DateTimeOffset.UtcNow };
        _pending[open.Name] = creation;
        if (request.IsEmpty)
        {
            Create(creation);
            return;
        }

        // It holds resources: it starts on a node that has them free, else it waits (PENDING_CREATION) for one.
        if (Placement.Choose(Candidates(), request) is { } node)
        {
            creation.Node = node;
            Create(creation);
        }
    }

    /// <summary>Opens the account, on the node chosen for its resources when it holds any.</summary>
    private void Create(PendingCreation pending)
    {
        var open = pending.Request;
        var name = open.Name;
        pending.Attempts++;
        _accounts
            .Ask<object>(new AccountRequest(pending.Key, pending.Id,
                new OpenAccount(open.Balance, open.MinimalBalance, pending.Id, open.MaxRestarts, open.MaxTaskRetries, pending.Resources.ToAmounts()),
                pending.Node), _settings.AskTimeout / OpenAttempts)
            .PipeTo(Self,
                success: reply => new CreationResult(name, reply, Retry: reply is Rejected { Code: "Moving" }),
                failure: ex => new CreationResult(name, Unreachable(ex), Retry: ex is AskTimeoutException));
    }

    /// <summary>Tries of one open, each a third of the ask timeout, so all of them fit in the client's own wait.</summary>
    private const int OpenAttempts = 3;

    private void Created(CreationResult result)
    {
        if (!_pending.TryGetValue(result.Name, out var pending)) return;
        if (result.Retry && pending.Attempts < OpenAttempts)
        {
            // The open (or its answer) was lost, e.g. in a shard's hand-off: the same open again is safe, its
            // incarnation id makes the account apply it once.
            Create(pending);
            return;
        }

        if (result.Reply is not AccountReply reply)
        {
            _pending.Remove(result.Name);
            _replies.Add(pending.Request.RequestId, result.Reply);
            pending.ReplyAll(result.Reply);
            return;
        }

        var open = pending.Request;
        if (pending.OwnerEnded)
        {
            // The session ended while its actor was being created: it dies as it is born, and is never registered.
            _pending.Remove(result.Name);
            CloseAccount(pending.Key, pending.Id, open.Name, DeathCauses.OwnerDied);
            pending.ReplyAll(new Rejected(ErrorKind.ActorDied, DeathCauses.OwnerDied,
                $"the session that opened '{open.Name}' ended before the actor started"));
            return;
        }

        var info = new ActorInfo(open.Name, pending.Key, pending.Id, ActorState.Alive, null, open.Detached,
            open.Detached ? null : open.Owner, pending.Node ?? reply.Node, 0, DateTimeOffset.UtcNow, null, open.MaxRestarts,
            open.MaxTaskRetries, pending.Resources.ToAmounts());
        Persist(new ActorRegistered(info), evt =>
        {
            _pending.Remove(result.Name);
            _state = _state.Apply(evt);
            _replies.Add(open.RequestId, info);
            pending.ReplyAll(info);
            MaybeSnapshot();
        });
    }

    private void Kill(KillActor kill)
    {
        if (_replies.Find(kill.RequestId) is { } answered)
        {
            Sender.Tell(answered);
            return;
        }

        if (_state.Find(kill.Name) is not { } actor)
        {
            Sender.Tell(Rejected.NotFound(kill.Name));
            return;
        }

        if (kill.Id is not null && kill.Id != actor.Id)
        {
            Sender.Tell(new Rejected(ErrorKind.ActorDied, nameof(ErrorKind.ActorDied),
                $"actor '{kill.Name}' ({kill.Id}) is dead; the name now belongs to {actor.Id}"));
            return;
        }

        var requester = Sender;
        Persist(new ActorDeathRecorded(actor.Name, actor.Id, kill.Cause, DateTimeOffset.UtcNow), evt =>
        {
            _state = _state.Apply(evt);
            MaybeSnapshot();
            var dead = actor with { State = ActorState.Dead, DeathCause = evt.Cause, DiedAt = evt.At };
            _replies.Add(kill.RequestId, dead);
            // Answer once the account has ended the incarnation, so a handle from before the kill is already dead.
            CloseAccount(actor.Key, actor.Id, actor.Name, kill.Cause).PipeTo(requester, success: () => dead);
        });
    }

    /// <summary>The actor's state as `bank list` shows it: RESTARTING while its supervisor restarts it.</summary>
    private ActorInfo Shown(ActorInfo actor) =>
        actor.State != ActorState.Alive ? actor
        : _unplaced.ContainsKey(actor.Id) ? actor with { State = ActorState.PendingCreation, Node = string.Empty }
        : _restarting.TryGetValue(actor.Id, out var restarting) && DateTimeOffset.UtcNow - restarting.At < RestartingShownFor
            ? actor with { State = ActorState.Restarting, Restarts = Math.Max(actor.Restarts, restarting.Restarts) }
            : actor;

    private ActorInfo? LiveByKey(string key, string id) =>
        _state.NameUsingKey(key) is { } name && _state.Find(name) is { } actor && actor.Id == id ? actor : null;

    private void Restarting(ActorRestarting restarting)
    {
        if (LiveByKey(restarting.Key, restarting.Id) is { } actor)
            _restarting[actor.Id] = (restarting.Restarts, DateTimeOffset.UtcNow);
    }

    private void RestartCompleted(ActorRestartCompleted completed)
    {
        if (LiveByKey(completed.Key, completed.Id) is not { } actor) return;
        _restarting.Remove(actor.Id);
        if (actor.Restarts >= completed.Restarts) return;
        Persist(new ActorRestartRecorded(actor.Name, actor.Id, completed.Restarts), evt =>
        {
            _state = _state.Apply(evt);
            MaybeSnapshot();
        });
    }

    /// <summary>The actor used up its restarts: DEAD with MAX_RESTARTS_EXCEEDED; its supervisor journals the close.</summary>
    private void Failed(ActorFailed failed)
    {
        var ack = new ActorFailureRecorded(failed.Key, failed.Id);
        if (LiveByKey(failed.Key, failed.Id) is not { } actor)
        {
            Sender.Tell(ack);
            return;
        }

        _restarting.Remove(actor.Id);
        var supervisor = Sender;
        var now = DateTimeOffset.UtcNow;
        PersistAll(new object[]
        {
            new ActorRestartRecorded(actor.Name, actor.Id, failed.Restarts),
            new ActorDeathRecorded(actor.Name, actor.Id, DeathCauses.MaxRestartsExceeded, now),
        }, evt =>
        {
            _state = _state.Apply(evt);
            if (evt is not ActorDeathRecorded) return;
            MaybeSnapshot();
            supervisor.Tell(ack);
        });
    }

    private void EndOwner(OwnerEnded ended)
    {
        foreach (var pending in _pending.Values.Where(p => !p.Request.Detached && p.Request.Owner == ended.Owner))
            pending.OwnerEnded = true;

        var victims = _state.Live.Values.Where(a => !a.Detached && a.Owner == ended.Owner).ToList();
        if (victims.Count == 0)
        {
            Sender.Tell(new OwnerReleased(ended.Owner, 0));
            return;
        }

        PersistDeaths(victims, Deaths(victims), applied: false, requester: (Sender, ended.Owner));
    }

    /// <summary>
    /// Owners of this node's earlier lives are gone, so their actors die now. The deaths are applied at once, before
    /// any request that waited for recovery is answered; they reach the journal with the next command.
    /// </summary>
    private void ReleaseOrphans()
    {
        var orphans = _state.Live.Values
            .Where(a => !a.Detached && a.Owner is { } owner && owner.StartsWith(NodeOwnerPrefix, StringComparison.Ordinal) && IsNodeOwnerGone(owner))
            .ToList();
        if (orphans.Count == 0) return;
        var deaths = Deaths(orphans);
        foreach (var death in deaths) _state = _state.Apply(death);
        Self.Tell(new OrphansReleased(orphans, deaths));
    }

    private static List<ActorDeathRecorded> Deaths(IEnumerable<ActorInfo> actors)
    {
        var now = DateTimeOffset.UtcNow;
        return actors.Select(a => new ActorDeathRecorded(a.Name, a.Id, DeathCauses.OwnerDied, now)).ToList();
    }

    private void PersistDeaths(IReadOnlyList<ActorInfo> victims, IReadOnlyList<ActorDeathRecorded> deaths, bool applied,
        (IActorRef Requester, string Owner)? requester)
    {
        var last = deaths[^1];
        PersistAll(deaths, evt =>
        {
            if (!applied) _state = _state.Apply(evt);
            if (!ReferenceEquals(evt, last)) return;
            MaybeSnapshot();
            var closing = Task.WhenAll(victims.Select(a => CloseAccount(a.Key, a.Id, a.Name, DeathCauses.OwnerDied)));
            if (requester is var (to, owner))
                closing.PipeTo(to, success: () => new OwnerReleased(owner, victims.Count));
        });
    }

    /// <summary>
    /// Ends the incarnation in the account's own journal. The close names the incarnation, so a late one never ends a
    /// newer holder of the key. A failure is logged: the registry has decided, and the stale id is refused anyway
    /// once the key is reopened.
    /// </summary>
    private Task CloseAccount(string key, string id, string name, string cause)
    {
        var log = _log;
        var closing = _accounts.Ask<object>(new AccountRequest(key, id, new CloseAccount(cause, id)), _settings.AskTimeout);
        return ConfirmAsync();

        // Runs off the actor's thread: it touches no actor state, only the captured logger.
        async Task ConfirmAsync()
        {
            string? problem;
            try
            {
                problem = (await closing as Rejected)?.Message;
            }
            catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
            {
                problem = e.Message;
            }

            if (problem is not null)
                log.Warning("Account {Key} of actor {Name} did not confirm its close: {Reason}", key, name, problem);
        }
    }

    // ---- Placement of actors that hold resources ----

    /// <summary>Nodes that may run an actor: Up, with what they advertise known.</summary>
    private IEnumerable<Member> UpMembers() => _cluster.State.Members.Where(m => m.Status == MemberStatus.Up);

    /// <summary>
    /// Nodes a new placement may choose: Up, reachable, not shutting down, and with what they advertise known; each with
    /// what its live actors hold.
    /// </summary>
    private List<NodeCapacity> Candidates()
    {
        var unreachable = _cluster.State.Unreachable.Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal);
        return UpMembers()
            .Select(m => m.Address.ToString())
            .Where(node => !unreachable.Contains(node) && !_departing.Contains(node) && _capacities.ContainsKey(node))
            .Select(node => new NodeCapacity(node, _capacities[node], Used(node)))
            .ToList();
    }

    /// <summary>What is reserved on a node: its live placed actors, and the opens under way there.</summary>
    private ResourceSet Used(string node) =>
        _state.Live.Values.Where(a => a.Node == node && a.Resources is not null && !_unplaced.ContainsKey(a.Id)).Select(a => a.Held)
            .Concat(_pending.Values.Where(p => p.Node == node).Select(p => p.Resources))
            .Aggregate(ResourceSet.Empty, (sum, held) => sum.Plus(held));

    /// <summary>
    /// A member joined or left: new Up nodes are asked what they have, and the live actors of nodes that are gone wait
    /// for a node that fits (they are placed on the next retry, a moment later).
    /// </summary>
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
                .Ask<NodeInfo>(GetNodeInfo.Instance, timeout)
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

    /// <summary>
    /// Places what waits, oldest first: opens (which fail with CREATION_FAILED after the pending timeout) and live
    /// actors whose node left (they wait as long as it takes; calls to them fail after the timeout).
    /// </summary>
    private void RetryPlacement()
    {
        AskCapacities();
        var now = DateTimeOffset.UtcNow;
        foreach (var pending in _pending.Values.Where(p => p.Node is null && !p.Resources.IsEmpty).OrderBy(p => p.Since).ToList())
        {
            if (pending.OwnerEnded)
            {
                _pending.Remove(pending.Request.Name);
                pending.ReplyAll(new Rejected(ErrorKind.ActorDied, DeathCauses.OwnerDied,
                    $"the session that opened '{pending.Request.Name}' ended before the actor started"));
            }
            else if (Placement.Choose(Candidates(), pending.Resources) is { } node)
            {
                pending.Node = node;
                Create(pending);
            }
            else if (now - pending.Since >= _settings.PendingTimeout)
            {
                CreationFailed(pending, Placement.NoNodeFits(pending.Request.Name, pending.Resources, Candidates(), now - pending.Since));
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
            // Applied now, not when journaled: the next actor of this pass must see this one's reservation.
            var placed = new ActorPlaced(actor.Name, actor.Id, node);
            _state = _state.Apply(placed);
            Persist(placed, _ => MaybeSnapshot());
        }
    }

    /// <summary>No node took the open within the pending timeout: it fails, and the actor is DEAD with CREATION_FAILED.</summary>
    private void CreationFailed(PendingCreation pending, string reason)
    {
        _pending.Remove(pending.Request.Name);
        var open = pending.Request;
        var now = DateTimeOffset.UtcNow;
        var info = new ActorInfo(open.Name, pending.Key, pending.Id, ActorState.Alive, null, open.Detached,
            open.Detached ? null : open.Owner, string.Empty, 0, pending.Since, null, open.MaxRestarts, open.MaxTaskRetries,
            pending.Resources.ToAmounts());
        var failure = new Rejected(ErrorKind.ActorDied, DeathCauses.CreationFailed, reason);
        _replies.Add(open.RequestId, failure);
        pending.ReplyAll(failure);
        PersistAll(new object[] { new ActorRegistered(info), new ActorDeathRecorded(open.Name, pending.Id, DeathCauses.CreationFailed, now) },
            evt =>
            {
                _state = _state.Apply(evt);
                if (evt is ActorDeathRecorded) MaybeSnapshot();
            });
    }

    /// <summary>An account's entity asks where its incarnation runs: the node it holds its resources on.</summary>
    private void Where(WhereToRun where)
    {
        if (LiveByKey(where.Key, where.Incarnation) is not { Resources: not null } actor)
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

            // Its node is leaving or gone: it is placed again, where it fits.
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
        return new Reservations(nodes, _unplaced.Count + _pending.Values.Count(p => p.Node is null && !p.Resources.IsEmpty));
    }

    private void MaybeSnapshot()
    {
        // A snapshot holds every actor the registry knows: the next one waits for at least as many events as the last
        // one held, so snapshots cost the same per event however many actors there are (every 100 events, a registry
        // of 46,000 actors wrote all of them every 100 opens). Recovery replays at most that many events after it.
        if (LastSequenceNr - _lastSnapshotSequenceNr < Math.Max(_settings.SnapshotEvery, _lastSnapshotSize)) return;
        _lastSnapshotSequenceNr = LastSequenceNr;
        _lastSnapshotSize = _state.Live.Count + _state.Dead.Count;
        SaveSnapshot(_state.ToSnapshot());
    }

    private IEnumerable<ActorInfo> PendingInfos() =>
        _pending.Values.Select(p => new ActorInfo(p.Request.Name, p.Key, p.Id, ActorState.PendingCreation, null,
            p.Request.Detached, p.Request.Owner, p.Node ?? string.Empty, 0, p.Since, null, p.Request.MaxRestarts,
            p.Request.MaxTaskRetries, p.Resources.ToAmounts()));

    private static Rejected AlreadyExists(string name) =>
        new(ErrorKind.AlreadyExists, nameof(ErrorKind.AlreadyExists), $"Actor with name '{name}' already exists");

    private Rejected Unreachable(Exception ex) =>
        new(ErrorKind.ClusterUnreachable, nameof(ErrorKind.ClusterUnreachable),
            ex is AskTimeoutException
                ? $"the account did not answer within {_settings.AskTimeout.TotalSeconds:0.#} s"
                : $"the account could not be reached: {ex.Message}");

    private sealed record PendingCreation(OpenActor Request, string Key, string Id, IActorRef Requester, List<IActorRef> Waiters)
    {
        /// <summary>What the actor will hold; empty when it asked for nothing.</summary>
        public ResourceSet Resources { get; init; } = ResourceSet.Empty;

        /// <summary>The node its resources are reserved on; null while no node has them free.</summary>
        public string? Node { get; set; }

        public DateTimeOffset Since { get; init; }

        public int Attempts { get; set; }

        /// <summary>The session that asked ended before the account answered.</summary>
        public bool OwnerEnded { get; set; }

        public void ReplyAll(object reply)
        {
            Requester.Tell(reply);
            foreach (var waiter in Waiters) waiter.Tell(reply);
        }
    }

    private sealed record CreationResult(string Name, object Reply, bool Retry = false);

    private sealed record OrphansReleased(IReadOnlyList<ActorInfo> Actors, IReadOnlyList<ActorDeathRecorded> Deaths);

    /// <summary>The answers to the latest requests by id, so a client's retry is answered, not done twice.</summary>
    private sealed class RecentReplies(int capacity)
    {
        private readonly Dictionary<string, object> _byId = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();

        public object? Find(string? requestId) => requestId is not null && _byId.TryGetValue(requestId, out var reply) ? reply : null;

        public void Add(string? requestId, object reply)
        {
            if (requestId is null || !_byId.TryAdd(requestId, reply)) return;
            _order.Enqueue(requestId);
            if (_order.Count > capacity) _byId.Remove(_order.Dequeue());
        }
    }

    private sealed record CheckOwners
    {
        public static readonly CheckOwners Instance = new();
    }

    private sealed record RetryPlacements
    {
        public static readonly RetryPlacements Instance = new();
    }

    private sealed record CapacityLearned(string Node, ResourceSet Resources);

    private sealed record CapacityUnknown(string Node);
}

public static class NameRegistryHostingExtensions
{
    /// <summary>
    /// Runs the registry of named actors as a cluster singleton (on the oldest node) and registers its proxy as
    /// <see cref="NameRegistryKey"/> on every node.
    /// </summary>
    public static AkkaConfigurationBuilder WithNameRegistry(this AkkaConfigurationBuilder builder) =>
        builder.WithSingleton<NameRegistryKey>(
            BankConstants.RegistrySingletonName,
            (system, registry, _) => NameRegistry.SupervisedPropsFor(registry.Get<AccountRegionKey>(), RegistrySettings.From(system)),
            new ClusterSingletonOptions(),
            createProxyToo: true);
}
