using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Bank.Hosting.Journal;

/// <summary>A snapshot row as the table holds it; the payload is deserialized by the snapshot store.</summary>
public sealed record StoredSnapshot(string PersistenceId, long SequenceNr, long CreatedTicks, byte[] Payload, string Manifest, int? SerializerId);

/// <summary>An event row as the journal table holds it; the payload is deserialized by the journal.</summary>
public readonly record struct StoredEvent(long SequenceNr, long CreatedTicks, byte[] Payload, string Manifest, int? SerializerId, string? WriterUuid);

/// <summary>Names of the snapshot table and its columns (Akka.Persistence.Sql's).</summary>
public sealed record SnapshotTableNames(string Table, string PersistenceId, string SequenceNr, string Created, string Snapshot, string Manifest, string SerializerId);

/// <summary>
/// The reads of every recovering actor, its newest snapshot, its events and its highest sequence number, on a thread
/// and a read connection of their own, each a statement prepared once and run through SQLite's own
/// API (bind, step, reset) outside any explicit transaction.
/// <para>
/// Through the plugin each of them was a linq2db query in a transaction that Microsoft.Data.Sqlite begins as
/// <c>BEGIN IMMEDIATE</c>, which takes the database's write lock: every recovery waited for the writer's group commit
/// and the writer for it, so opens queued behind writes (docs/benchmarks.md). Here a read sees what was committed when
/// it began and never blocks the writer (WAL).
/// </para>
/// Owned by the database's <see cref="SqliteGroupCommitter"/>, which starts it on first use.
/// </summary>
public sealed class SqliteRecoveryReader : IDisposable
{
    private readonly HandOffQueue<Action<Statements>> _queue = new();
    private readonly string _connectionString;
    private readonly Thread _thread;

    public SqliteRecoveryReader(string connectionString)
    {
        _connectionString = connectionString;
        _thread = new Thread(Run) { IsBackground = true, Name = "bank-sqlite-recovery-reader" };
        _thread.Start();
    }

    /// <summary>
    /// The highest sequence number journaled for <paramref name="persistenceId"/> (0 when none), as the plugin reads it:
    /// deleted rows count, and with <paramref name="fromSequenceNr"/> above 0 only the numbers above it.
    /// </summary>
    public Task<long> HighestSequenceNr(JournalTableNames table, string persistenceId, long fromSequenceNr) =>
        Enqueue(statements =>
        {
            var statement = statements.Prepare(
                $"SELECT MAX([{table.SequenceNr}]) FROM [{table.Table}] WHERE [{table.PersistenceId}] = ?1 AND [{table.SequenceNr}] > ?2");
            Statements.Bind(statement, persistenceId, fromSequenceNr);
            return statements.Step(statement) && raw.sqlite3_column_type(statement, 0) != raw.SQLITE_NULL
                ? raw.sqlite3_column_int64(statement, 0)
                : 0L;
        });

    /// <summary>
    /// The newest snapshot of <paramref name="persistenceId"/> with a sequence number and a creation time (ticks) at
    /// most the given ones, or null.
    /// </summary>
    public Task<StoredSnapshot?> LatestSnapshot(SnapshotTableNames table, string persistenceId, long maxSequenceNr, long maxCreatedTicks) =>
        Enqueue(statements =>
        {
            var statement = statements.Prepare(
                $"SELECT [{table.SequenceNr}], [{table.Created}], [{table.Snapshot}], [{table.Manifest}], [{table.SerializerId}] " +
                $"FROM [{table.Table}] WHERE [{table.PersistenceId}] = ?1 AND [{table.SequenceNr}] <= ?2 AND [{table.Created}] <= ?3 " +
                $"ORDER BY [{table.SequenceNr}] DESC LIMIT 1");
            Statements.Bind(statement, persistenceId, maxSequenceNr, maxCreatedTicks);
            if (!statements.Step(statement)) return null;
            return new StoredSnapshot(persistenceId,
                raw.sqlite3_column_int64(statement, 0),
                raw.sqlite3_column_int64(statement, 1),
                raw.sqlite3_column_blob(statement, 2).ToArray(),
                raw.sqlite3_column_text(statement, 3).utf8_to_string() ?? string.Empty,
                raw.sqlite3_column_type(statement, 4) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int(statement, 4));
        });

    /// <summary>
    /// Up to <paramref name="limit"/> events of <paramref name="persistenceId"/> from <paramref name="fromSequenceNr"/> to
    /// <paramref name="toSequenceNr"/>, in order, without the deleted ones: the plugin's replay query, one batch of it.
    /// </summary>
    public Task<List<StoredEvent>> Events(JournalTableNames table, string persistenceId, long fromSequenceNr, long toSequenceNr, int limit) =>
        Enqueue(statements =>
        {
            var writer = table.WriterUuid is null ? "NULL" : $"[{table.WriterUuid}]";
            var statement = statements.Prepare(
                $"SELECT [{table.SequenceNr}], [{table.Created}], [{table.Message}], [{table.Manifest}], [{table.SerializerId}], {writer} " +
                $"FROM [{table.Table}] WHERE [{table.PersistenceId}] = ?1 AND [{table.SequenceNr}] >= ?2 AND [{table.SequenceNr}] <= ?3 " +
                $"AND [{table.Deleted}] = 0 ORDER BY [{table.SequenceNr}] LIMIT ?4");
            Statements.Bind(statement, persistenceId, fromSequenceNr, toSequenceNr, limit);
            var events = new List<StoredEvent>(Math.Min(limit, 1024));
            // An account's rows repeat a few manifests and one writer: each distinct value is decoded once per read.
            var texts = new RepeatedTexts();
            while (statements.Step(statement))
            {
                events.Add(new StoredEvent(
                    raw.sqlite3_column_int64(statement, 0),
                    raw.sqlite3_column_int64(statement, 1),
                    raw.sqlite3_column_blob(statement, 2).ToArray(),
                    texts.Decode(raw.sqlite3_column_blob(statement, 3)),
                    raw.sqlite3_column_type(statement, 4) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int(statement, 4),
                    raw.sqlite3_column_type(statement, 5) == raw.SQLITE_NULL ? null : texts.Decode(raw.sqlite3_column_blob(statement, 5))));
            }

            return events;
        });

    /// <summary>Whether a read failed because its table does not exist (yet).</summary>
    public static bool IsMissingTable(SqliteException e) =>
        e.SqliteErrorCode == raw.SQLITE_ERROR && e.Message.Contains("no such table", StringComparison.Ordinal);

    private Task<T> Enqueue<T>(Func<Statements, T> read)
    {
        // Continuations run elsewhere: this thread only reads.
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.TryAdd(statements =>
            {
                try
                {
                    done.TrySetResult(read(statements));
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
                finally
                {
                    // A statement left stepped would hold its snapshot of the database, and WAL could not be checkpointed.
                    statements.Reset();
                }
            });
        }
        catch (InvalidOperationException)
        {
            done.TrySetException(new ObjectDisposedException(nameof(SqliteRecoveryReader), "the SQLite reader has stopped"));
        }

        return done.Task;
    }

    public void Dispose()
    {
        // Reads already queued are still answered; then the thread ends.
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }

    private void Run()
    {
        Statements? statements = null;
        try
        {
            foreach (var read in _queue.GetConsumingEnumerable())
            {
                try
                {
                    statements ??= new Statements(_connectionString);
                }
                catch (Exception e)
                {
                    // The reads fail with the reason (see Enqueue); the next one tries to open the database again.
                    read(new Statements(e));
                    continue;
                }

                read(statements);
            }
        }
        finally
        {
            statements?.Dispose();
        }
    }

    /// <summary>
    /// UTF-8 column values decoded to strings, each distinct value once (a TEXT column read as a blob is its UTF-8
    /// bytes); past <see cref="Kept"/> distinct values the others are decoded every time.
    /// </summary>
    private sealed class RepeatedTexts
    {
        private const int Kept = 16;
        private readonly List<(byte[] Utf8, string Text)> _seen = [];

        public string Decode(ReadOnlySpan<byte> utf8)
        {
            foreach (var (bytes, text) in _seen)
                if (utf8.SequenceEqual(bytes)) return text;
            var decoded = System.Text.Encoding.UTF8.GetString(utf8);
            if (_seen.Count < Kept) _seen.Add((utf8.ToArray(), decoded));
            return decoded;
        }
    }

    /// <summary>The reader's connection and its statements, prepared on first use and kept.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly SqliteConnection? _connection;
        private readonly Exception? _openFailure;
        private readonly Dictionary<string, sqlite3_stmt> _prepared = new(StringComparer.Ordinal);
        // The statement the read in progress stepped; reset when the read returns.
        private sqlite3_stmt? _current;

        public Statements(string connectionString)
        {
            // Its own connection, never pooled: a pooled one would carry query_only to whoever takes it next.
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
            _connection.Open();
            using var pragma = _connection.CreateCommand();
            pragma.CommandText = "PRAGMA query_only = 1;";
            pragma.ExecuteNonQuery();
        }

        /// <summary>Statements of a connection that failed to open: every use throws why.</summary>
        public Statements(Exception openFailure) => _openFailure = openFailure;

        private sqlite3 Database => _connection?.Handle ?? throw _openFailure!;

        public sqlite3_stmt Prepare(string sql)
        {
            if (_prepared.TryGetValue(sql, out var statement)) return statement;
            var result = raw.sqlite3_prepare_v2(Database, sql, out statement);
            if (result != raw.SQLITE_OK)
            {
                var failure = Failure(result);
                statement.Dispose();
                throw failure;
            }

            _prepared[sql] = statement;
            return statement;
        }

        /// <summary>Binds every read's parameters: the persistence id first (?1), then its numbers (?2, ?3...).</summary>
        public static void Bind(sqlite3_stmt statement, string persistenceId, params ReadOnlySpan<long> numbers)
        {
            raw.sqlite3_bind_text(statement, 1, persistenceId);
            for (var i = 0; i < numbers.Length; i++) raw.sqlite3_bind_int64(statement, i + 2, numbers[i]);
        }

        /// <summary>Steps to the statement's next row (false: no more); the statement is reset once the read returns.</summary>
        public bool Step(sqlite3_stmt statement)
        {
            _current = statement;
            var result = raw.sqlite3_step(statement);
            if (result == raw.SQLITE_ROW) return true;
            if (result == raw.SQLITE_DONE) return false;
            var failure = Failure(result);
            Reset();
            throw failure;
        }

        /// <summary>Ends the last read: its statement lets go of the database snapshot it was reading.</summary>
        public void Reset()
        {
            if (_current is null) return;
            raw.sqlite3_reset(_current);
            raw.sqlite3_clear_bindings(_current);
            _current = null;
        }

        private SqliteException Failure(int result) =>
            new($"SQLite Error {result}: '{raw.sqlite3_errmsg(Database).utf8_to_string()}'.", result, raw.sqlite3_extended_errcode(Database));

        public void Dispose()
        {
            foreach (var statement in _prepared.Values) statement.Dispose();
            _connection?.Dispose();
        }
    }
}
