using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Journal;

/// <summary>
/// Group commit for a PostgreSQL journal: one loop per database in this process takes every append waiting for it and
/// writes them with one binary COPY in one transaction, so a node pays one round trip and one WAL flush for many
/// events instead of one each. A batch the server refuses is written again append by append, so only the failing
/// append fails (e.g. a sequence number taken twice by a stale writer). A batch that takes longer than the write timeout
/// is given up and its connection broken, so a frozen server holds the writer no longer than that; after any failure
/// the pooled connections are dropped, so none left over from a server that restarted fails the next write.
/// </summary>
public sealed class PostgresGroupCommitter : IDisposable
{
    private static readonly Dictionary<string, PostgresGroupCommitter> Shared = new(StringComparer.Ordinal);
    private static readonly object SharedLock = new();

    private readonly Channel<Entry> _queue;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _key;
    private readonly Task _loop;
    private readonly int _maxBatchRows;
    private readonly TimeSpan _writeTimeout;
    private int _references = 1;
    private long _transactions;
    private long _appended;

    private PostgresGroupCommitter(string connectionString, int capacity, int maxBatchRows, TimeSpan writeTimeout)
    {
        _key = connectionString;
        _maxBatchRows = maxBatchRows;
        _writeTimeout = writeTimeout;
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed and rows appended so far.</summary>
    public (long Transactions, long Rows) Counts => (Interlocked.Read(ref _transactions), Interlocked.Read(ref _appended));

    /// <summary>The committer of the database at <paramref name="connectionString"/>, shared in this process; release it with Dispose.</summary>
    public static PostgresGroupCommitter Acquire(string connectionString, int capacity = 10_000, int maxBatchRows = 1_000,
        TimeSpan? writeTimeout = null)
    {
        lock (SharedLock)
        {
            if (Shared.TryGetValue(connectionString, out var existing))
            {
                existing._references++;
                return existing;
            }

            var committer = new PostgresGroupCommitter(connectionString, capacity, maxBatchRows, writeTimeout ?? TimeSpan.FromSeconds(4));
            Shared[connectionString] = committer;
            return committer;
        }
    }

    /// <summary>Appends the rows atomically, all or none; completes once they are committed.</summary>
    public Task Append(JournalTableNames table, IReadOnlyList<JournalEventRow> rows)
    {
        var entry = new Entry(table, rows);
        if (!_queue.Writer.TryWrite(entry))
            return Task.FromException(new InvalidOperationException(
                "the PostgreSQL journal's queue is full or closed; the write was refused"));
        return entry.Done.Task;
    }

    public void Dispose()
    {
        lock (SharedLock)
        {
            if (--_references > 0) return;
            Shared.Remove(_key);
        }

        // Appends already queued still go in; then the loop ends.
        _queue.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(30));
        _dataSource.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<Entry>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            var rows = 0;
            while (rows < _maxBatchRows && _queue.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
                rows += entry.Rows.Count;
            }

            var started = Stopwatch.GetTimestamp();
            try
            {
                await WriteAsync(batch);
                Committed(batch.Count, started);
                foreach (var entry in batch) entry.Done.TrySetResult();
            }
            catch (PostgresException) when (batch.Count > 1)
            {
                // The server refused the batch, which rolled back; which append it refused is not known: each goes again
                // on its own, so only the failing ones fail. (A lost or timed-out connection fails the whole batch at
                // once instead: its appends may be committed, and going again one by one would only hold the writer.)
                foreach (var entry in batch)
                {
                    var alone = Stopwatch.GetTimestamp();
                    try
                    {
                        await WriteAsync([entry]);
                        Committed(1, alone);
                        entry.Done.TrySetResult();
                    }
                    catch (Exception e)
                    {
                        BankMetrics.CommitFailures.Add(1);
                        Broken(e);
                        entry.Done.TrySetException(e);
                    }
                }
            }
            catch (Exception e)
            {
                BankMetrics.CommitFailures.Add(batch.Count);
                Broken(e);
                foreach (var entry in batch) entry.Done.TrySetException(e);
            }

            batch.Clear();
        }
    }

    private static void Committed(int writes, long started)
    {
        BankMetrics.CommitBatchSize.Record(writes);
        BankMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>
    /// After a failure that is not the server refusing a row, the pool's connections may all be dead (a restarted
    /// server): they are dropped, here and in the pools of the plugin's own reads, so the next write opens a fresh one.
    /// </summary>
    private void Broken(Exception failure)
    {
        if (!LostConnection(failure)) return;
        _dataSource.Clear();
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>What <see cref="Broken"/> does for the plugin's own reads (recovery), which use Npgsql's global pools.</summary>
    public static void DropPooledConnectionsAfter(Exception failure)
    {
        if (LostConnection(failure)) NpgsqlConnection.ClearAllPools();
    }

    /// <summary>A failure of the connection or the server, not a row the server refused (admin shutdown and crash count).</summary>
    private static bool LostConnection(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is PostgresException postgres) return postgres.SqlState is "57P01" or "57P02" or "57P03";
            if (e is NpgsqlException or TimeoutException or IOException) return true;
        }

        return false;
    }

    private async Task WriteAsync(List<Entry> batch)
    {
        using var timeout = new CancellationTokenSource(_writeTimeout);
        try
        {
            await WriteAsync(batch, timeout.Token);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"the PostgreSQL journal did not commit a write within {_writeTimeout.TotalSeconds:0.#} s; it may still commit", e);
        }
    }

    private async Task WriteAsync(List<Entry> batch, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Appends of one table in a row go in one COPY; tables differ only if two journals share the database.
        foreach (var group in batch.GroupBy(e => e.Table))
        {
            var t = group.Key;
            var writer = t.WriterUuid is null ? "" : $", \"{t.WriterUuid}\"";
            await using var import = await connection.BeginBinaryImportAsync(
                $"COPY \"{t.Table}\" (\"{t.Created}\", \"{t.Deleted}\", \"{t.PersistenceId}\", \"{t.SequenceNr}\", \"{t.Message}\", " +
                $"\"{t.Manifest}\", \"{t.SerializerId}\"{writer}) FROM STDIN (FORMAT BINARY)", cancellationToken);
            foreach (var row in group.SelectMany(e => e.Rows))
            {
                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(row.Created, NpgsqlDbType.Bigint, cancellationToken);
                await import.WriteAsync(false, NpgsqlDbType.Boolean, cancellationToken);
                await import.WriteAsync(row.PersistenceId, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(row.SequenceNr, NpgsqlDbType.Bigint, cancellationToken);
                await import.WriteAsync(row.Message, NpgsqlDbType.Bytea, cancellationToken);
                await import.WriteAsync(row.Manifest, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(row.SerializerId, NpgsqlDbType.Integer, cancellationToken);
                if (t.WriterUuid is not null)
                {
                    if (row.WriterUuid is null) await import.WriteNullAsync(cancellationToken);
                    else await import.WriteAsync(row.WriterUuid, NpgsqlDbType.Text, cancellationToken);
                }
            }

            await import.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _appended, batch.Sum(e => e.Rows.Count));
    }

    private sealed record Entry(JournalTableNames Table, IReadOnlyList<JournalEventRow> Rows)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
