using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Pattern;
using Akka.Persistence;
using Akka.Remote;
using Bank.Domain;
using Bank.Hosting.Accounts;

namespace Bank.Hosting.Registry;

/// <summary>Tunables of the registry, read from <c>bank.registry</c> and <c>bank.accounts</c> in hocon/bank.hocon.</summary>
public sealed record RegistrySettings(
    int SnapshotEvery,
    int KeepDead,
    TimeSpan AskTimeout,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    TimeSpan HeartbeatInterval,
    TimeSpan OwnerTimeout)
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
            OwnerTimeout: config.GetTimeSpan("bank.client.owner-timeout", TimeSpan.FromSeconds(10)));
    }
}

/// <summary>
/// The registry of named actors: name to account key and incarnation id, with lifetimes and death causes.
/// Event-sourced, so names survive a full cluster restart; it runs as a cluster singleton and talks to accounts only
/// through the shard region. Opens are atomic: a name is reserved while its account is being created.
/// Owners are watched: a node-local session dies with its node, a client session with its heartbeats.
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
        });
        Recover<ActorRegistered>(e => _state = _state.Apply(e));
        Recover<ActorDeathRecorded>(e => _state = _state.Apply(e));
        Recover<ActorRestartRecorded>(e => _state = _state.Apply(e));
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
    }

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

        var problem = Names.ValidateActorName(open.Name) ?? (open.Key is null ? null : Names.ValidateAccountKey(open.Key))
            ?? new Supervision(open.MaxRestarts, open.MaxTaskRetries).Validate();
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
        _pending[open.Name] = new PendingCreation(open, key, id, Sender, []);
        var name = open.Name;
        _accounts
            .Ask<object>(new AccountRequest(key, id,
                new OpenAccount(open.Balance, open.MinimalBalance, id, open.MaxRestarts, open.MaxTaskRetries)), _settings.AskTimeout)
            .PipeTo(Self,
                success: reply => new CreationResult(name, reply),
                failure: ex => new CreationResult(name, Unreachable(ex)));
    }

    private void Created(CreationResult result)
    {
        if (!_pending.TryGetValue(result.Name, out var pending)) return;
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
            open.Detached ? null : open.Owner, reply.Node, 0, DateTimeOffset.UtcNow, null, open.MaxRestarts, open.MaxTaskRetries);
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
        actor.State == ActorState.Alive && _restarting.TryGetValue(actor.Id, out var restarting)
                                         && DateTimeOffset.UtcNow - restarting.At < RestartingShownFor
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

    private void MaybeSnapshot()
    {
        if (LastSequenceNr - _lastSnapshotSequenceNr < _settings.SnapshotEvery) return;
        _lastSnapshotSequenceNr = LastSequenceNr;
        SaveSnapshot(_state.ToSnapshot());
    }

    private IEnumerable<ActorInfo> PendingInfos() =>
        _pending.Values.Select(p => new ActorInfo(p.Request.Name, p.Key, p.Id, ActorState.PendingCreation, null,
            p.Request.Detached, p.Request.Owner, string.Empty, 0, DateTimeOffset.UtcNow, null));

    private static Rejected AlreadyExists(string name) =>
        new(ErrorKind.AlreadyExists, nameof(ErrorKind.AlreadyExists), $"Actor with name '{name}' already exists");

    private Rejected Unreachable(Exception ex) =>
        new(ErrorKind.ClusterUnreachable, nameof(ErrorKind.ClusterUnreachable),
            ex is AskTimeoutException
                ? $"the account did not answer within {_settings.AskTimeout.TotalSeconds:0.#} s"
                : $"the account could not be reached: {ex.Message}");

    private sealed record PendingCreation(OpenActor Request, string Key, string Id, IActorRef Requester, List<IActorRef> Waiters)
    {
        /// <summary>The session that asked ended before the account answered.</summary>
        public bool OwnerEnded { get; set; }

        public void ReplyAll(object reply)
        {
            Requester.Tell(reply);
            foreach (var waiter in Waiters) waiter.Tell(reply);
        }
    }

    private sealed record CreationResult(string Name, object Reply);

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
