using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Akka.Pattern;
using Akka.Persistence;
using Akka.Remote;
using Bank.Domain;
using Bank.Hosting.Accounts;

namespace Bank.Hosting.Registry;

/// <summary>Tunables of the registry, read from <c>bank.registry</c> and <c>bank.accounts</c> in hocon/bank.hocon.</summary>
public sealed record RegistrySettings(int SnapshotEvery, int KeepDead, TimeSpan AskTimeout, TimeSpan MinBackoff, TimeSpan MaxBackoff)
{
    public static RegistrySettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new RegistrySettings(
            SnapshotEvery: Math.Max(1, config.GetInt("bank.registry.snapshot-every", 100)),
            KeepDead: Math.Max(0, config.GetInt("bank.registry.keep-dead", 1000)),
            AskTimeout: config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)),
            MinBackoff: config.GetTimeSpan("bank.registry.min-backoff", TimeSpan.FromSeconds(1)),
            MaxBackoff: config.GetTimeSpan("bank.registry.max-backoff", TimeSpan.FromSeconds(10)));
    }
}

/// <summary>
/// The registry of named actors: name to account key and incarnation id, with lifetimes and death causes.
/// Event-sourced, so names survive a restart; it talks to accounts only through the shard region, so it can run
/// as a cluster singleton unchanged. Opens are atomic: a name is reserved while its account is being created.
/// </summary>
public sealed class NameRegistry : ReceivePersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _accounts;
    private readonly RegistrySettings _settings;
    private readonly Dictionary<string, PendingCreation> _pending = new(StringComparer.Ordinal);
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
        Recover<RecoveryCompleted>(_ => ReleaseOrphans());

        Command<OpenActor>(Open);
        Command<CreationResult>(Created);
        Command<GetActor>(get => Sender.Tell(_state.Find(get.Name) ?? (object)Rejected.NotFound(get.Name)));
        Command<KillActor>(Kill);
        Command<ListActors>(_ => Sender.Tell(new ActorList([.. PendingInfos(), .. _state.All()])));
        Command<OwnerEnded>(EndOwner);
        Command<OrphansReleased>(released => PersistDeaths(released.Actors, released.Deaths, applied: true, requester: null));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f =>
            _log.Warning(f.Cause, "Registry snapshot at {SequenceNr} failed; recovery replays more events", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Info("Old registry snapshots were not deleted: {Reason}", f.Cause.Message));
    }

    public override string PersistenceId => BankConstants.RegistryPersistenceId;

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
    /// An owner is named after the actor system that opened the session. Owners of this process's earlier lives
    /// are gone; the cluster issue adds heartbeats for owners elsewhere.
    /// </summary>
    public static string OwnerFor(ActorSystem system, string session) =>
        $"{AddressUidExtension.Uid(system)}/{session}";

    private bool IsOwnerGone(string? owner) =>
        owner is not null && !owner.StartsWith($"{AddressUidExtension.Uid(Context.System)}/", StringComparison.Ordinal);

    private void Open(OpenActor open)
    {
        var problem = Names.ValidateActorName(open.Name) ?? (open.Key is null ? null : Names.ValidateAccountKey(open.Key));
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
            if (open.GetIfExists) pending.Waiters.Add(Sender);
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
            .Ask<object>(new AccountRequest(key, id, new OpenAccount(open.Balance, open.MinimalBalance, id)), _settings.AskTimeout)
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
            open.Detached ? null : open.Owner, reply.Node, 0, DateTimeOffset.UtcNow, null);
        Persist(new ActorRegistered(info), evt =>
        {
            _pending.Remove(result.Name);
            _state = _state.Apply(evt);
            pending.ReplyAll(info);
            MaybeSnapshot();
        });
    }

    private void Kill(KillActor kill)
    {
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
            // Answer once the account has ended the incarnation, so a handle from before the kill is already dead.
            CloseAccount(actor.Key, actor.Id, actor.Name, kill.Cause).PipeTo(requester, success: () => dead);
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
        var orphans = _state.Live.Values.Where(a => !a.Detached && IsOwnerGone(a.Owner)).ToList();
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
        return _accounts
            .Ask<object>(new AccountRequest(key, id, new CloseAccount(cause, id)), _settings.AskTimeout)
            .ContinueWith(t =>
            {
                var problem = t.IsCompletedSuccessfully
                    ? (t.Result as Rejected)?.Message
                    : t.Exception?.GetBaseException().Message ?? "cancelled";
                if (problem is not null)
                    log.Warning("Account {Key} of actor {Name} did not confirm its close: {Reason}", key, name, problem);
            }, TaskScheduler.Default);
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
}

public static class NameRegistryHostingExtensions
{
    /// <summary>Starts the registry of named actors on this node, registered as <see cref="NameRegistryKey"/>.</summary>
    public static AkkaConfigurationBuilder WithNameRegistry(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) =>
        {
            var accounts = registry.Get<AccountRegionKey>();
            var props = NameRegistry.SupervisedPropsFor(accounts, RegistrySettings.From(system));
            registry.Register<NameRegistryKey>(system.ActorOf(props, "name-registry"));
        });
}
