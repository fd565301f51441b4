using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Bank.Hosting.Journal;

/// <summary>
/// Group commit for a PostgreSQL journal: one loop per database in this process takes every append waiting for it and
/// writes them with one binary COPY in one transaction, so a node pays one round trip and one WAL flush for many
/// events instead of one each. A batch that fails is written again append by append, so only the failing append
/// fails (e.g. a sequence number taken twice by a stale writer).
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
    private int _references = 1;
    private long _transactions;
    private long _appended;

    private PostgresGroupCommitter(string connectionString, int capacity, int maxBatchRows)
    {
        _key = connectionString;
        _maxBatchRows = maxBatchRows;
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed and rows appended so far.</summary>
    public (long Transactions, long Rows) Counts => (Interlocked.Read(ref _transactions), Interlocked.Read(ref _appended));

    /// <summary>The committer of the database at <paramref name="connectionString"/>, shared in this process; release it with Dispose.</summary>
    public static PostgresGroupCommitter Acquire(string connectionString, int capacity = 10_000, int maxBatchRows = 1_000)
    {
        lock (SharedLock)
        {
            if (Shared.TryGetValue(connectionString, out var existing))
            {
                existing._references++;
                return existing;
            }

            var committer = new PostgresGroupCommitter(connectionString, capacity, maxBatchRows);
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

            try
            {
                await WriteAsync(batch);
                foreach (var entry in batch) entry.Done.TrySetResult();
            }
            catch (Exception) when (batch.Count > 1)
            {
                // Which append failed is not known: each goes again on its own, so only the failing ones fail.
                foreach (var entry in batch)
                {
                    try
                    {
                        await WriteAsync([entry]);
                        entry.Done.TrySetResult();
                    }
                    catch (Exception e)
                    {
                        entry.Done.TrySetException(e);
                    }
                }
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }

            batch.Clear();
        }
    }

    private async Task WriteAsync(List<Entry> batch)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Appends of one table in a row go in one COPY; tables differ only if two journals share the database.
        foreach (var group in batch.GroupBy(e => e.Table))
        {
            var t = group.Key;
            var writer = t.WriterUuid is null ? "" : $", \"{t.WriterUuid}\"";
            await using var import = await connection.BeginBinaryImportAsync(
                $"COPY \"{t.Table}\" (\"{t.Created}\", \"{t.Deleted}\", \"{t.PersistenceId}\", \"{t.SequenceNr}\", \"{t.Message}\", " +
                $"\"{t.Manifest}\", \"{t.SerializerId}\"{writer}) FROM STDIN (FORMAT BINARY)");
            foreach (var row in group.SelectMany(e => e.Rows))
            {
                await import.StartRowAsync();
                await import.WriteAsync(row.Created, NpgsqlDbType.Bigint);
                await import.WriteAsync(false, NpgsqlDbType.Boolean);
                await import.WriteAsync(row.PersistenceId, NpgsqlDbType.Text);
                await import.WriteAsync(row.SequenceNr, NpgsqlDbType.Bigint);
                await import.WriteAsync(row.Message, NpgsqlDbType.Bytea);
                await import.WriteAsync(row.Manifest, NpgsqlDbType.Text);
                await import.WriteAsync(row.SerializerId, NpgsqlDbType.Integer);
                if (t.WriterUuid is not null)
                {
                    if (row.WriterUuid is null) await import.WriteNullAsync();
                    else await import.WriteAsync(row.WriterUuid, NpgsqlDbType.Text);
                }
            }

            await import.CompleteAsync();
        }

        await transaction.CommitAsync();
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _appended, batch.Sum(e => e.Rows.Count));
    }

    private sealed record Entry(JournalTableNames Table, IReadOnlyList<JournalEventRow> Rows)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
