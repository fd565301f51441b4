using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Journal;

/// <summary>
/// One event as the journal table stores it: the payload already serialized. <paramref name="Payload"/>, the event
/// itself, is not written: it goes to the subscribers of <see cref="SqliteGroupCommitter.Committed"/>.
/// </summary>
public readonly record struct JournalEventRow(
    string PersistenceId, long SequenceNr, long Created, byte[] Message, string Manifest, int SerializerId, string? WriterUuid,
    object? Payload = null);

/// <summary>An event the journal committed, with the ordering (global offset) the database gave it.</summary>
public readonly record struct CommittedEvent(long Ordering, string PersistenceId, long SequenceNr, long Created, object? Payload);

/// <summary>Names of the journal table and its columns (Akka.Persistence.Sql's, so its reads and queries see our rows).</summary>
public sealed record JournalTableNames(
    string Table, string Deleted, string PersistenceId, string SequenceNr, string Created, string Message, string Manifest,
    string SerializerId, string? WriterUuid, string Ordering = "ordering");

/// <summary>
/// The one writer of a SQLite database in this process: a dedicated thread that takes every write waiting for it and
/// commits them together, one transaction and one fsync for all (group commit). SQLite admits one writer at a time
/// anyway, and Microsoft.Data.Sqlite's "async" calls run synchronously, so without this each event waits for its own
/// transaction and its own fsync. Journal appends and other writers' work (the state store's upserts) share the queue,
/// so they never contend for SQLite's write lock.
/// </summary>
public sealed class SqliteGroupCommitter : IDisposable
{
    private static readonly Dictionary<string, SqliteGroupCommitter> Shared = new(StringComparer.Ordinal);
    private static readonly object SharedLock = new();

    private readonly HandOffQueue<Entry> _queue;
    private readonly string _connectionString;
    private readonly string _key;
    private readonly Thread _thread;
    private readonly Lazy<SqliteRecoveryReader> _reader;
    private int _references = 1;
    private long _transactions;
    private long _appended;

    private SqliteGroupCommitter(string key, string connectionString, int capacity, int maxBatchRows)
    {
        _key = key;
        _connectionString = connectionString;
        MaxBatchRows = maxBatchRows;
        _queue = new HandOffQueue<Entry>(capacity);
        _reader = new Lazy<SqliteRecoveryReader>(() => new SqliteRecoveryReader(connectionString));
        _thread = new Thread(Run) { IsBackground = true, Name = "bank-sqlite-writer" };
        _thread.Start();
    }

    /// <summary>
    /// Every committed journal batch, in commit order, on the writer's thread (a handler must not block): a reader of
    /// the journal in this process, such as the state store's feed, follows it without querying and deserializing.
    /// </summary>
    public event Action<IReadOnlyList<CommittedEvent>>? Committed;

    /// <summary>The database's reader of what recovering actors read first (snapshot, highest sequence number).</summary>
    public SqliteRecoveryReader Reader => _reader.Value;

    /// <summary>Rows in one transaction at most; the rest wait for the next one.</summary>
    public int MaxBatchRows { get; }

    /// <summary>Transactions committed and journal rows appended so far (what a batch holds on average).</summary>
    public (long Transactions, long Rows) Counts => (Interlocked.Read(ref _transactions), Interlocked.Read(ref _appended));

    /// <summary>
    /// The committer of the database at <paramref name="connectionString"/>'s file, started by the first caller and
    /// shared by the others (journals of several actor systems on one file, the state store); release it with
    /// <see cref="Dispose"/>.
    /// </summary>
    public static SqliteGroupCommitter Acquire(string connectionString, int capacity = 10_000, int maxBatchRows = 1_000)
    {
        var key = Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);
        lock (SharedLock)
        {
            if (Shared.TryGetValue(key, out var existing))
            {
                existing._references++;
                return existing;
            }

            var committer = new SqliteGroupCommitter(key, connectionString, capacity, maxBatchRows);
            Shared[key] = committer;
            return committer;
        }
    }

    /// <summary>
    /// <see cref="Acquire(string, int, int)"/> with the journal's settings in <paramref name="systemConfig"/>
    /// (<c>akka.persistence.journal.sql</c>: buffer-size, group-commit-max-rows), for the writer's other users.
    /// </summary>
    public static SqliteGroupCommitter Acquire(Akka.Configuration.Config systemConfig, string connectionString)
    {
        var journal = systemConfig.GetConfig("akka.persistence.journal.sql");
        return Acquire(connectionString, journal.GetInt("buffer-size", 5000), journal.GetInt("group-commit-max-rows", 1000));
    }

    /// <summary>The committer of a database file if one is running in this process.</summary>
    public static SqliteGroupCommitter? Running(string connectionString)
    {
        var key = Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);
        lock (SharedLock) return Shared.GetValueOrDefault(key);
    }

    /// <summary>
    /// Appends the rows atomically, all or none. Completes once they are durable; fails with the database's error for
    /// these rows alone (one bad write, e.g. a sequence number taken twice, does not fail those committed with it).
    /// </summary>
    public Task Append(JournalTableNames table, IReadOnlyList<JournalEventRow> rows) =>
        Enqueue(new Entry(table, rows, null, rows.Count));

    /// <summary>
    /// Runs a write on the writer's thread, in the next group commit, inside a savepoint of its own: it commits with
    /// the journal's rows, and a failure rolls back and fails this write alone.
    /// </summary>
    /// <param name="weight">What the write counts towards a batch's <see cref="MaxBatchRows"/>: the rows it writes.</param>
    public Task Execute(Action<SqliteConnection, SqliteTransaction> write, int weight = 1) =>
        Enqueue(new Entry(null, null, write, Math.Max(1, weight)));

    /// <summary>
    /// Caps the database file at <paramref name="pages"/> pages (SQLite's max_page_count, on the writer's connection;
    /// null lifts the cap; never below the file's size). What a full disk does to the journal, without filling one:
    /// the specs of a full disk use it, and an operator may use it to keep the file under a size.
    /// </summary>
    public Task SetMaxPageCount(long? pages) => Execute((connection, _) =>
    {
        using var pragma = connection.CreateCommand();
        pragma.CommandText = $"PRAGMA max_page_count = {pages ?? uint.MaxValue - 1}";
        pragma.ExecuteNonQuery();
    });

    private Task Enqueue(Entry entry)
    {
        try
        {
            if (!_queue.TryAdd(entry))
                return Task.FromException(new InvalidOperationException(
                    $"the SQLite writer's queue is full ({_queue.BoundedCapacity} writes waiting); the write was refused"));
        }
        catch (InvalidOperationException)
        {
            return Task.FromException(new ObjectDisposedException(nameof(SqliteGroupCommitter), "the SQLite writer has stopped"));
        }

        return entry.Done.Task;
    }

    public void Dispose()
    {
        lock (SharedLock)
        {
            if (--_references > 0) return;
            Shared.Remove(_key);
        }

        // Writes already queued still go in; then the thread ends.
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(30));
        if (_reader.IsValueCreated) _reader.Value.Dispose();
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        var batch = new List<Entry>();
        var statements = new Dictionary<JournalTableNames, InsertStatement>();
        try
        {
            foreach (var first in _queue.GetConsumingEnumerable())
            {
                try
                {
                    connection ??= Open();
                }
                catch (Exception e)
                {
                    first.Done.TrySetException(e);
                    continue;
                }

                // Everything that queued while the last transaction committed goes into this one.
                batch.Add(first);
                var rows = first.Size;
                while (rows < MaxBatchRows && _queue.TryTake(out var next))
                {
                    batch.Add(next);
                    rows += next.Size;
                }

                Commit(connection, batch, statements);
                batch.Clear();
            }
        }
        finally
        {
            foreach (var statement in statements.Values) statement.Dispose();
            connection?.Dispose();
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        // FULL: a commit is on disk when it returns, WAL or not; NORMAL could lose the last commits on power loss.
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// One transaction for the whole batch, each write inside its own savepoint: a write that fails is rolled back
    /// alone (a journal append all or nothing) and fails alone, and the others commit together, with one fsync.
    /// </summary>
    private void Commit(SqliteConnection connection, List<Entry> batch, Dictionary<JournalTableNames, InsertStatement> statements)
    {
        var subscribers = Committed;
        var committed = subscribers is null ? null : new List<CommittedEvent>(batch.Sum(e => e.Rows?.Count ?? 0));
        var failures = new Exception?[batch.Count];
        long rows = 0;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var transaction = connection.BeginTransaction();
            for (var i = 0; i < batch.Count; i++)
            {
                var entry = batch[i];
                var published = committed?.Count ?? 0;
                transaction.Save("w");
                try
                {
                    if (entry.Write is not null) entry.Write(connection, transaction);
                    else rows += Append(connection, entry, statements, committed);
                    transaction.Release("w");
                }
                catch (Exception e) when (connection.AutoCommit())
                {
                    // SQLite rolled the whole transaction back itself (a full disk does): nothing of the batch is in,
                    // and the callers hear why, not that the transaction is gone.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
                }
                catch (Exception e)
                {
                    transaction.Rollback("w");
                    transaction.Release("w");
                    committed?.RemoveRange(published, committed.Count - published);
                    failures[i] = e;
                }
            }

            transaction.Commit();
        }
        catch (Exception e)
        {
            // The commit itself failed (disk full, I/O error): nothing of the batch is in.
            BankMetrics.CommitFailures.Add(batch.Count);
            foreach (var entry in batch) entry.Done.TrySetException(e);
            return;
        }

        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _appended, rows);
        var failed = failures.Count(f => f is not null);
        BankMetrics.CommitBatchSize.Record(batch.Count - failed);
        BankMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (failed > 0) BankMetrics.CommitFailures.Add(failed);
        for (var i = 0; i < batch.Count; i++)
        {
            if (failures[i] is { } failure) batch[i].Done.TrySetException(failure);
            else batch[i].Done.TrySetResult();
        }

        if (committed is { Count: > 0 }) Publish(subscribers!, committed);
    }

    private static int Append(SqliteConnection connection, Entry entry, Dictionary<JournalTableNames, InsertStatement> statements,
        List<CommittedEvent>? committed)
    {
        if (!statements.TryGetValue(entry.Table!, out var insert))
            statements[entry.Table!] = insert = new InsertStatement(connection, entry.Table!);
        var rows = entry.Rows!;
        for (var i = 0; i < rows.Count; i++)
        {
            var ordering = insert.Insert(rows[i]);
            committed?.Add(new CommittedEvent(ordering, rows[i].PersistenceId, rows[i].SequenceNr, rows[i].Created, rows[i].Payload));
        }

        return rows.Count;
    }

    private static void Publish(Action<IReadOnlyList<CommittedEvent>> subscribers, List<CommittedEvent> committed)
    {
        // The rows are in: a subscriber's failure is its own, never the writers'.
        foreach (var subscriber in subscribers.GetInvocationList().Cast<Action<IReadOnlyList<CommittedEvent>>>())
        {
            try
            {
                subscriber(committed);
            }
            catch (Exception)
            {
                // A subscriber that fails misses events; it notices the gap in the orderings and reads them back.
            }
        }
    }

    /// <summary>
    /// The journal's insert, prepared once per connection and table and run through SQLite's own API: bind, step,
    /// reset. Microsoft.Data.Sqlite allocates a reader, a statement list and a binder per parameter on every execute;
    /// that is too much on the one thread every write of the node waits for (docs/benchmarks.md).
    /// </summary>
    private sealed class InsertStatement : IDisposable
    {
        private readonly sqlite3 _database;
        private readonly sqlite3_stmt _statement;
        private readonly bool _writerColumn;

        public InsertStatement(SqliteConnection connection, JournalTableNames table)
        {
            _database = connection.Handle!;
            _writerColumn = table.WriterUuid is not null;
            var writer = _writerColumn ? $", [{table.WriterUuid}]" : "";
            var writerValue = _writerColumn ? ", ?7" : "";
            var sql =
                $"INSERT INTO [{table.Table}] ([{table.Deleted}], [{table.PersistenceId}], [{table.SequenceNr}], [{table.Created}], " +
                $"[{table.Message}], [{table.Manifest}], [{table.SerializerId}]{writer}) VALUES (0, ?1, ?2, ?3, ?4, ?5, ?6{writerValue})";
            Check(raw.sqlite3_prepare_v2(_database, sql, out _statement));
        }

        /// <summary>Inserts the row in the transaction that is open on the connection; returns its ordering.</summary>
        public long Insert(in JournalEventRow row)
        {
            raw.sqlite3_bind_text(_statement, 1, row.PersistenceId);
            raw.sqlite3_bind_int64(_statement, 2, row.SequenceNr);
            raw.sqlite3_bind_int64(_statement, 3, row.Created);
            if (row.Message.Length == 0) raw.sqlite3_bind_zeroblob(_statement, 4, 0);
            else raw.sqlite3_bind_blob(_statement, 4, row.Message);
            raw.sqlite3_bind_text(_statement, 5, row.Manifest);
            raw.sqlite3_bind_int(_statement, 6, row.SerializerId);
            if (_writerColumn)
            {
                if (row.WriterUuid is null) raw.sqlite3_bind_null(_statement, 7);
                else raw.sqlite3_bind_text(_statement, 7, row.WriterUuid);
            }

            var result = raw.sqlite3_step(_statement);
            // The error's text is read before the reset, which would clear it.
            var error = result == raw.SQLITE_DONE ? null : Failure(result);
            raw.sqlite3_reset(_statement);
            if (error is not null) throw error;
            return raw.sqlite3_last_insert_rowid(_database);
        }

        public void Dispose() => _statement.Dispose();

        private void Check(int result)
        {
            if (result != raw.SQLITE_OK) throw Failure(result);
        }

        private SqliteException Failure(int result) =>
            new($"SQLite Error {result}: '{raw.sqlite3_errmsg(_database).utf8_to_string()}'.", result, raw.sqlite3_extended_errcode(_database));
    }

    /// <param name="Size">What the entry counts towards a batch's rows: its events, or the weight of another write.</param>
    private sealed record Entry(JournalTableNames? Table, IReadOnlyList<JournalEventRow>? Rows, Action<SqliteConnection, SqliteTransaction>? Write, int Size)
    {

        // Continuations run elsewhere: the writer's thread only writes.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

internal static class SqliteConnectionState
{
    /// <summary>Whether no transaction is open on the connection (SQLite's autocommit mode).</summary>
    public static bool AutoCommit(this SqliteConnection connection) => raw.sqlite3_get_autocommit(connection.Handle) != 0;
}
