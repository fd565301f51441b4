using Akka.Actor;
using Akka.Cluster.Routing;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Routing;
using Akka.Streams;
using Akka.Streams.Dsl;
using Bank.Domain;
using Bank.Hosting.Journal;
using Bank.Hosting.Registry;

namespace Bank.Hosting.StateStore;

/// <summary>Tunables of the state store, read from <c>bank.state-store</c> in hocon/bank.hocon.</summary>
public sealed record StateStoreSettings(
    bool Enabled,
    int PoolSize,
    string? WorkerRole,
    int BatchSize,
    TimeSpan BatchWindow,
    TimeSpan WorkerTimeout,
    int MaxRetries)
{
    public static StateStoreSettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        var role = config.GetString("bank.state-store.worker-role", ResourceSet.Cpu);
        return new StateStoreSettings(
            Enabled: config.GetBoolean("bank.state-store.enabled", true),
            PoolSize: Math.Max(1, config.GetInt("bank.state-store.pool-size", 3)),
            WorkerRole: string.IsNullOrWhiteSpace(role) ? null : role,
            BatchSize: Math.Max(1, config.GetInt("bank.state-store.batch-size", 500)),
            BatchWindow: config.GetTimeSpan("bank.state-store.batch-window", TimeSpan.FromMilliseconds(100)),
            WorkerTimeout: config.GetTimeSpan("bank.state-store.worker-timeout", TimeSpan.FromSeconds(5)),
            MaxRetries: Math.Max(-1, config.GetInt("bank.state-store.max-retries", 3)));
    }
}

/// <summary>
/// Keeps the query-side state store current: reads every event of the journal after the offset it stored last
/// (Akka.Persistence.Query's AllEvents, live), turns account events into rows (balance as of that event) and the
/// registry's registrations into names, and hands them in batches to a round-robin pool of persistence workers,
/// deployed on the nodes with the worker role. The offset is stored only once every batch before it is written, so
/// after any stop it catches up from the journal and loses nothing; rows never go backwards (see
/// <see cref="AccountStateStore"/>). A batch whose worker dies or fails is sent again, to the next worker, up to
/// max-retries times (Ray's max_retries for stateless work); one the worker refuses as wrong is never retried.
/// It runs as a cluster singleton.
/// </summary>
public sealed class StateStoreFeeder : ReceiveActor
{
    public const string Projection = "account-state";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StateStoreSettings _settings;
    private readonly AccountStateStore _store;
    private readonly Dictionary<string, long> _rowsByWorker = new(StringComparer.Ordinal);
    private IActorRef _workers = ActorRefs.Nobody;
    private long _offset;
    private long _retried;
    private long _refused;
    private SqliteGroupCommitter? _committer;

    public StateStoreFeeder(StateStoreSettings settings, BankPersistenceOptions database)
    {
        _settings = settings;
        _store = new AccountStateStore(database);
        Receive<Resume>(resume => Run(resume.Offset));
        Receive<Stored>(stored =>
        {
            _offset = Math.Max(_offset, stored.Offset);
            foreach (var (worker, rows) in stored.RowsByWorker)
                _rowsByWorker[worker] = _rowsByWorker.GetValueOrDefault(worker) + rows;
            _retried += stored.Retried;
            _refused += stored.Refused;
        });
        Receive<StreamStopped>(stopped =>
            throw new InvalidOperationException($"the state store's feed stopped at offset {_offset}: {stopped.Reason}"));
        // Fault injection (the gateway checks it is allowed): every worker crashes on its next batch.
        Receive<CrashOnNextBatch>(crash =>
        {
            _workers.Tell(new Broadcast(crash));
            Sender.Tell(new StateStoreProgress(_offset, _offset, new Dictionary<string, long>(_rowsByWorker), _retried, _refused));
        });
        Receive<GetStateStoreProgress>(_ =>
        {
            var progress = (Offset: _offset, Rows: new Dictionary<string, long>(_rowsByWorker), _retried, _refused);
            _store.JournalHeadAsync().PipeTo(Sender,
                success: head => new StateStoreProgress(progress.Offset, Math.Max(head, progress.Offset), progress.Rows, progress._retried, progress._refused));
        });
    }

    public static Props PropsFor(StateStoreSettings settings, BankPersistenceOptions database) =>
        Props.Create(() => new StateStoreFeeder(settings, database));

    /// <summary>The feeder under a backoff supervisor: a failed feed starts again from the stored offset after a pause.</summary>
    public static Props SupervisedPropsFor(StateStoreSettings settings, BankPersistenceOptions database) =>
        Akka.Pattern.BackoffSupervisor.Props(Akka.Pattern.Backoff.OnFailure(PropsFor(settings, database), "feeder",
            TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0.2, maxNrOfRetries: -1));

    /// <summary>
    /// The workers: a cluster-aware round-robin pool, restarted one by one when they crash (the batch goes to
    /// another worker meanwhile), deployed on nodes with the worker role, this one included.
    /// </summary>
    public static Props WorkerPoolProps(StateStoreSettings settings) =>
        Props.Create<StateStoreWorker>().WithRouter(new ClusterRouterPool(
            new RoundRobinPool(settings.PoolSize, null,
                new OneForOneStrategy(-1, -1, _ => Directive.Restart, loggingEnabled: false), null),
            new ClusterRouterPoolSettings(settings.PoolSize, settings.PoolSize, allowLocalRoutees: true, settings.WorkerRole)));

    protected override void PreStart()
    {
        _workers = Context.ActorOf(WorkerPoolProps(_settings), "workers");
        var store = _store;
        StartAsync().PipeTo(Self, success: offset => new Resume(offset));

        async Task<long> StartAsync()
        {
            await store.EnsureCreatedAsync();
            return await store.ReadOffsetAsync(Projection);
        }
    }

    protected override void PostStop()
    {
        // Released off the actor's thread: the last holder waits for the writes already queued to go in.
        var committer = _committer;
        _committer = null;
        if (committer is not null) _ = Task.Run(committer.Dispose);
        base.PostStop();
    }

    private void Run(long from)
    {
        _offset = from;
        _log.Info("State store feed starts after journal offset {Offset}, with {Workers} persistence workers", from, _settings.PoolSize);
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var self = Self;
        var store = _store;
        var settings = _settings;
        var workers = _workers;
        long batches = 0;

        // On SQLite the node's own writer hands over what it commits; PostgreSQL, shared by nodes, is polled.
        var system = (ExtendedActorSystem)Context.System;
        var database = BankDatabase.For(system).Options;
        // The feed holds the writer too, so it follows the commits even when it starts before the journal does.
        if (database.Journal == JournalKind.Sqlite)
            _committer ??= SqliteGroupCommitter.Acquire(system.Settings.Config, database.ConnectionString);
        var committer = _committer;
        var followsCommits = committer is not null;
        var source = committer is not null
            ? Source.From(() => SqliteJournalFeed.Follow(system, committer,
                    database.ConnectionString, GroupCommitSqlJournal.TableNames(system.Settings.Config), from, Wanted))
                .Select(e => (Offset: e.Ordering, Row: RowOf(e.PersistenceId, e.SequenceNr, e.Created, e.Payload)))
            : journal.AllEvents(Offset.Sequence(from))
                .Select(envelope => (Offset: envelope.Offset is Sequence s ? s.Value : 0L,
                    Row: RowOf(envelope.PersistenceId, envelope.SequenceNr, envelope.Timestamp, envelope.Event)));
        if (followsCommits) _log.Info("State store feed follows the SQLite journal's commits");

        source
            .GroupedWithin(settings.BatchSize, settings.BatchWindow)
            .SelectAsync(settings.PoolSize, async events =>
            {
                var rows = Collapse(events.Select(e => e.Row));
                var outcome = rows.Count == 0
                    ? new Stored(0, new Dictionary<string, long>(), 0, 0)
                    : await StoreAsync(workers, new StoreBatch(Interlocked.Increment(ref batches), rows), settings);
                return outcome with { Offset = events.Max(e => e.Offset) };
            })
            // In journal order: the offset is stored only after every batch before it is written.
            .SelectAsync(1, async stored =>
            {
                await store.WriteOffsetAsync(Projection, stored.Offset);
                return stored;
            })
            .RunWith(Sink.ForEach<Stored>(stored => self.Tell(stored)), Context.Materializer())
            .PipeTo(self, success: () => new StreamStopped("the journal's feed completed"), failure: e => new StreamStopped(e.Message));
    }

    /// <summary>
    /// Sends the batch to the next worker until one writes it. A worker that does not answer (it died, crashed, or its
    /// node did) or that could not write (a database error) is a system failure: the batch goes to the next worker, up
    /// to max-retries times (-1: no limit). A worker's refusal of the batch as wrong is final.
    /// </summary>
    private static async Task<Stored> StoreAsync(IActorRef workers, StoreBatch batch, StateStoreSettings settings)
    {
        for (var attempt = 0; ; attempt++)
        {
            object? reply;
            try
            {
                reply = await workers.Ask<object>(batch, settings.WorkerTimeout);
            }
            catch (AskTimeoutException)
            {
                reply = null;
            }

            switch (reply)
            {
                case BatchStored stored:
                    return new Stored(0, new Dictionary<string, long> { [stored.Worker] = stored.Rows }, attempt, 0);
                case BatchRefused:
                    return new Stored(0, new Dictionary<string, long>(), attempt, 1);
                default:
                    if (settings.MaxRetries != -1 && attempt >= settings.MaxRetries)
                        throw new InvalidOperationException(
                            $"batch {batch.Id} was not written after {attempt + 1} attempts (max-retries = {settings.MaxRetries}): {Describe(reply)}");
                    break;
            }
        }

        static string Describe(object? reply) => reply switch
        {
            null => "no worker answered",
            Status.Failure failure => failure.Cause.Message,
            _ => reply.GetType().Name,
        };
    }

    /// <summary>The journals the store is made of: the accounts' and the registry's (for names).</summary>
    private static bool Wanted(string persistenceId) =>
        persistenceId == BankConstants.RegistryPersistenceId
        || persistenceId.StartsWith(BankConstants.AccountPersistenceIdPrefix, StringComparison.Ordinal);

    /// <summary>The row an event makes: an account's balance as of the event, or a registered actor's name for its key.</summary>
    private static AccountRow? RowOf(string persistenceId, long sequenceNr, long timestamp, object? @event)
    {
        // The SQL journal stamps events with DateTime ticks (UTC).
        var at = timestamp > 0 && timestamp <= DateTime.MaxValue.Ticks
            ? new DateTimeOffset(timestamp, TimeSpan.Zero)
            : DateTimeOffset.UtcNow;
        if (persistenceId == BankConstants.RegistryPersistenceId)
            return @event is ActorRegistered registered ? new AccountRow(registered.Actor.Key, 0, null, null, registered.Actor.Name, at) : null;
        if (!persistenceId.StartsWith(BankConstants.AccountPersistenceIdPrefix, StringComparison.Ordinal)) return null;
        var key = persistenceId[BankConstants.AccountPersistenceIdPrefix.Length..];
        var version = sequenceNr;
        return @event switch
        {
            AccountOpened opened => new AccountRow(key, version, opened.Balance, opened.MinimalBalance, null, at),
            AccountReopened reopened => new AccountRow(key, version, reopened.Balance, null, null, at),
            Deposited deposited => new AccountRow(key, version, deposited.Balance, null, null, at),
            Withdrawn withdrawn => new AccountRow(key, version, withdrawn.Balance, null, null, at),
            AccountClosed closed => new AccountRow(key, version, closed.Balance, null, null, at),
            // Restarts and released ids do not change the balance: the row keeps the version of its balance's event.
            _ => null,
        };
    }

    /// <summary>One row per account in a batch, its newest; its minimal balance and name kept from earlier ones.</summary>
    private static List<AccountRow> Collapse(IEnumerable<AccountRow?> rows)
    {
        var byKey = new Dictionary<string, AccountRow>(StringComparer.Ordinal);
        var names = new List<AccountRow>();
        foreach (var row in rows)
        {
            if (row is null) continue;
            if (row.Version == 0)
            {
                names.Add(row);
                continue;
            }

            byKey[row.Key] = byKey.TryGetValue(row.Key, out var earlier) && earlier.Version > row.Version
                ? earlier with { MinimalBalance = earlier.MinimalBalance ?? row.MinimalBalance }
                : row with { MinimalBalance = row.MinimalBalance ?? earlier?.MinimalBalance };
        }

        // In key order: two workers writing overlapping batches at once lock their rows in the same order, so they
        // never deadlock (PostgreSQL would abort one of them).
        return [.. byKey.Values.Concat(names).OrderBy(r => r.Key, StringComparer.Ordinal)];
    }

    private sealed record Resume(long Offset);

    private sealed record Stored(long Offset, IReadOnlyDictionary<string, long> RowsByWorker, long Retried, long Refused);

    private sealed record StreamStopped(string Reason);
}
