using Akka.Actor;
using Akka.Cluster.Routing;
using Akka.Event;
using Akka.Routing;
using Akka.Streams;
using Akka.Streams.Dsl;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Journal;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.StateStore;

/// <summary>Tunables of the state store, read from <c>bank.state-store</c> in hocon/bank.hocon.</summary>
public sealed record StateStoreSettings(
    bool Enabled,
    int PoolSize,
    string? WorkerRole,
    int BatchSize,
    TimeSpan BatchWindow,
    TimeSpan WorkerTimeout,
    int MaxRetries,
    TimeSpan GapTimeout)
{
    /// <summary>How often the SQLite feed takes the writer's commits: a tenth of the window, at least 10 ms.</summary>
    public TimeSpan DrainInterval => TimeSpan.FromTicks(Math.Max(BatchWindow.Ticks / 10, TimeSpan.TicksPerMillisecond * 10));

    /// <summary>How often the feeder reads the journal's head for the gauge bank.state_store.lag.</summary>
    public TimeSpan LagInterval { get; init; } = TimeSpan.FromSeconds(5);

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
            MaxRetries: Math.Max(-1, config.GetInt("bank.state-store.max-retries", 3)),
            GapTimeout: config.GetTimeSpan("bank.state-store.gap-timeout", TimeSpan.FromSeconds(10)))
        {
            LagInterval = config.GetTimeSpan("bank.state-store.lag-interval", TimeSpan.FromSeconds(5)),
        };
    }
}

/// <summary>
/// Keeps the query-side state store current: reads every event of the journal after the offset it stored last (on
/// SQLite by following the node's commits, <see cref="SqliteJournalFeed"/>; on PostgreSQL by polling,
/// <see cref="PostgresJournalFeed"/>), folds account events into one row per account per window (its newest balance)
/// and the registry's registrations into names, and hands them in batches to a round-robin pool of persistence workers,
/// deployed on the nodes with the worker role. The offset is stored only once every batch before it is written, so
/// after any stop it catches up from the journal and loses nothing; rows never go backwards (see
/// <see cref="AccountStateStore"/>). A batch whose worker dies or fails is sent again, to the next worker, up to
/// max-retries times (Ray's max_retries for stateless work); one the worker refuses as wrong is never retried.
/// It runs as a cluster singleton.
/// </summary>
public sealed class StateStoreFeeder : ReceiveActor, IWithTimers
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
        Receive<ReadLag>(_ =>
        {
            var offset = _offset;
            _store.JournalHeadAsync().PipeTo(Self, success: head => new LagRead(Math.Max(0, head - offset)), failure: _ => new LagRead(null));
        });
        Receive<LagRead>(lag =>
        {
            // A failed read keeps the last value: the feed itself reports a journal that is away.
            if (lag.Events is { } events) NodeFigures.For(Context.System).StateStoreLag = events;
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

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        _workers = Context.ActorOf(WorkerPoolProps(_settings), "workers");
        Timers.StartPeriodicTimer(ReadLag.Instance, ReadLag.Instance, _settings.LagInterval);
        var store = _store;
        // A start that fails (the database is away) fails the feeder, so its backoff supervisor tries again; unanswered,
        // the feeder would sit idle for good and the store never catch up after an outage.
        StartAsync().PipeTo(Self, success: offset => new Resume(offset), failure: e => new StreamStopped($"could not start: {e.Message}"));

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
        // The singleton moved on (or stopped): its next node reports the lag.
        NodeFigures.For(Context.System).StateStoreLag = -1;
        base.PostStop();
    }

    private void Run(long from)
    {
        _offset = from;
        _log.Info("State store feed starts after journal offset {Offset}, with {Workers} persistence workers", from, _settings.PoolSize);
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
        // Batches of rows with the offset of their last event: an account's rows collapse to its newest per batch.
        var source = committer is not null
            // The commits are taken off the writer every tenth of the window and folded at once into one pending row
            // per account, so no event is held long enough for the collector to promote it.
            ? Source.From(() => Windows(SqliteJournalFeed.Follow(system, committer, database.ConnectionString,
                    GroupCommitSqlJournal.TableNames(system.Settings.Config), from, Wanted, settings.DrainInterval, settings.BatchSize), settings))
            : Source.From(() => Windows(PostgresJournalFeed.Follow(system, database.ConnectionString,
                GroupCommitSqlJournal.TableNames(system.Settings.Config), from, Wanted, settings.DrainInterval, settings.BatchSize,
                settings.GapTimeout), settings));
        _log.Info(committer is not null ? "State store feed follows the SQLite journal's commits" : "State store feed polls the PostgreSQL journal");

        source
            .SelectAsync(settings.PoolSize, async chunk =>
            {
                var outcome = chunk.Rows.Count == 0
                    ? new Stored(0, new Dictionary<string, long>(), 0, 0)
                    : await StoreAsync(workers, new StoreBatch(Interlocked.Increment(ref batches), chunk.Rows), settings);
                return outcome with { Offset = chunk.Offset };
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

    /// <summary>
    /// The feed's chunks folded into one batch of rows per window (or per batch-size events, when the feed catches
    /// up): each event only updates its account's pending row, and rows are made when the window closes.
    /// </summary>
    private static async IAsyncEnumerable<(long Offset, List<AccountRow> Rows)> Windows(
        IAsyncEnumerable<IReadOnlyList<CommittedEvent>> chunks, StateStoreSettings settings)
    {
        var pending = new PendingRows();
        var opened = System.Diagnostics.Stopwatch.GetTimestamp();
        long offset = 0;
        await foreach (var chunk in chunks)
        {
            foreach (var e in chunk) pending.Add(e);
            if (chunk.Count > 0) offset = chunk[^1].Ordering;
            if (pending.Events == 0)
            {
                opened = System.Diagnostics.Stopwatch.GetTimestamp();
                continue;
            }

            if (pending.Events >= settings.BatchSize || System.Diagnostics.Stopwatch.GetElapsedTime(opened) >= settings.BatchWindow)
            {
                yield return (offset, pending.Take());
                opened = System.Diagnostics.Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>
    /// One pending row per account, updated by each of its events in place: it keeps only what the row needs (the
    /// newest balance and its version, the newest minimal balance), never the events.
    /// </summary>
    private sealed class PendingRows
    {
        private readonly Dictionary<string, Pending> _accounts = new(StringComparer.Ordinal);
        private readonly List<AccountRow> _names = [];

        /// <summary>Events taken in since the last <see cref="Take"/>, wanted or not.</summary>
        public int Events { get; private set; }

        public void Add(in CommittedEvent e)
        {
            Events++;
            if (e.PersistenceId == BankConstants.RegistryPersistenceId)
            {
                // A registered actor's name for its key.
                if (e.Payload is ActorRegistered registered)
                    _names.Add(new AccountRow(registered.Actor.Key, 0, null, null, registered.Actor.Name, At(e.Created)));
                return;
            }

            if (!e.PersistenceId.StartsWith(BankConstants.AccountPersistenceIdPrefix, StringComparison.Ordinal)) return;
            var (balance, minimal) = e.Payload switch
            {
                AccountOpened opened => (opened.Balance, opened.MinimalBalance),
                AccountReopened reopened => (reopened.Balance, (decimal?)null),
                Deposited deposited => (deposited.Balance, null),
                Withdrawn withdrawn => (withdrawn.Balance, null),
                AccountClosed closed => (closed.Balance, null),
                // Restarts and released ids do not change the balance: the row keeps the version of its balance's event.
                _ => ((decimal?)null, (decimal?)null),
            };
            if (balance is null) return;
            ref var row = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_accounts, e.PersistenceId, out _);
            if (e.SequenceNr > row.Version) row = row with { Version = e.SequenceNr, Created = e.Created, Balance = balance.Value };
            if (minimal is not null && e.SequenceNr > row.MinimalVersion) row = row with { Minimal = minimal, MinimalVersion = e.SequenceNr };
        }

        /// <summary>The rows, in key order, and a fresh start.</summary>
        public List<AccountRow> Take()
        {
            var rows = new List<AccountRow?>(_accounts.Count + _names.Count);
            foreach (var (persistenceId, row) in _accounts)
                rows.Add(new AccountRow(persistenceId[BankConstants.AccountPersistenceIdPrefix.Length..], row.Version, row.Balance, row.Minimal, null,
                    At(row.Created)));
            rows.AddRange(_names);
            _accounts.Clear();
            _names.Clear();
            Events = 0;
            return Merge(rows);
        }

        private record struct Pending(long Version, long Created, decimal Balance, decimal? Minimal, long MinimalVersion);
    }

    /// <summary>When an event was written: the SQL journal stamps events with DateTime ticks (UTC).</summary>
    private static DateTimeOffset At(long timestamp) =>
        timestamp > 0 && timestamp <= DateTime.MaxValue.Ticks ? new DateTimeOffset(timestamp, TimeSpan.Zero) : DateTimeOffset.UtcNow;

    /// <summary>One row per account in a batch, its newest; its minimal balance and name kept from earlier ones.</summary>
    private static List<AccountRow> Merge(IEnumerable<AccountRow?> rows)
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

    /// <summary>Time to read the journal's head for the lag gauge.</summary>
    private sealed class ReadLag
    {
        public static readonly ReadLag Instance = new();
    }

    /// <param name="Events">The lag, or null when the head could not be read.</param>
    private sealed record LagRead(long? Events);

    private sealed record Stored(long Offset, IReadOnlyDictionary<string, long> RowsByWorker, long Retried, long Refused);

    private sealed record StreamStopped(string Reason);
}
