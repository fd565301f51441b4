using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Bank.Hosting.Journal;
using Microsoft.Data.Sqlite;

namespace Bank.Hosting.StateStore;

/// <summary>
/// The journal of a SQLite node as one ordered feed, from an offset on: what is stored after the offset, read from the
/// journal table, then every batch the node's <see cref="SqliteGroupCommitter"/> commits, with the events still in
/// memory: no polling, no query and no deserializing on the live path. The feed hands over chunks, not events: the
/// writer's thread only queues what it committed (it wakes no one), and the reader takes everything queued once per
/// interval (an empty chunk when nothing was), or sooner when a chunk's worth has queued, so following the journal
/// costs the write path next to nothing.
/// Orderings are checked: one seen twice is skipped, one missing (a write that did not go through the committer, or
/// commits dropped while the reader fell too far behind) is read back from the table, so nothing is lost or applied
/// out of order.
/// </summary>
public static class SqliteJournalFeed
{
    private const int ReadBatch = 1000;

    /// <param name="interesting">Whether events of this persistence id are wanted (others are not deserialized).</param>
    /// <param name="window">How long committed events wait for the reader at most: a chunk, empty or not, comes at least this often.</param>
    /// <param name="chunk">Events in one chunk at most; as many queued wake the reader before the window ends.</param>
    /// <param name="capacity">Events queued for the reader at most; beyond them it reads what it missed from the table.</param>
    public static async IAsyncEnumerable<IReadOnlyList<CommittedEvent>> Follow(
        ExtendedActorSystem system, SqliteGroupCommitter committer, string connectionString, JournalTableNames table, long from,
        Func<string, bool> interesting, TimeSpan window, int chunk = 20_000, int? capacity = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = from;
        while (!cancellationToken.IsCancellationRequested)
        {
            // Beyond this many queued events the subscription ends and the feed reads what it missed from the table.
            var inbox = new Inbox(chunk, capacity ?? Math.Max(chunk * 4, 100_000));
            committer.Committed += inbox.Add;
            try
            {
                // Subscribed first, then read: an event committed in between is in both, and skipped the second time.
                foreach (var stored in ReadStored(system, connectionString, table, last, long.MaxValue, interesting, chunk))
                {
                    last = stored[^1].Ordering;
                    yield return stored;
                }

                while (true)
                {
                    await inbox.WaitAsync(window, cancellationToken);
                    var (batches, overflowed) = inbox.Drain();
                    var next = new List<CommittedEvent>(batches.Sum(b => b.Count));
                    foreach (var batch in batches)
                    {
                        foreach (var committed in batch)
                        {
                            if (committed.Ordering <= last) continue;
                            if (committed.Ordering > last + 1)
                            {
                                foreach (var missed in ReadStored(system, connectionString, table, last, committed.Ordering - 1, interesting, int.MaxValue))
                                    next.AddRange(missed);
                            }

                            last = committed.Ordering;
                            next.Add(committed);
                        }
                    }

                    // Empty on a quiet tick: the reader learns that time passed (it may close a window).
                    yield return next;
                    if (overflowed) break;
                }
            }
            finally
            {
                committer.Committed -= inbox.Add;
            }
        }
    }

    /// <summary>
    /// Stored events with orderings after <paramref name="after"/> and up to <paramref name="upTo"/>, in order, in
    /// chunks of up to <paramref name="chunk"/> events.
    /// </summary>
    private static IEnumerable<List<CommittedEvent>> ReadStored(
        ExtendedActorSystem system, string connectionString, JournalTableNames table, long after, long upTo, Func<string, bool> interesting,
        int chunk)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        // The journal creates its table when it starts, which may be after the feed does: no table, nothing stored yet.
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $table";
        command.Parameters.AddWithValue("$table", table.Table);
        if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0) yield break;
        command.Parameters.Clear();
        command.CommandText =
            $"SELECT [{table.Ordering}], [{table.PersistenceId}], [{table.SequenceNr}], [{table.Created}], [{table.Message}], [{table.Manifest}], " +
            $"[{table.SerializerId}], [{table.Deleted}] FROM [{table.Table}] WHERE [{table.Ordering}] > $after AND [{table.Ordering}] <= $upTo ORDER BY [{table.Ordering}] LIMIT {ReadBatch}";
        var afterParameter = command.Parameters.Add("$after", SqliteType.Integer);
        command.Parameters.AddWithValue("$upTo", upTo);
        var read = new List<CommittedEvent>();
        while (true)
        {
            afterParameter.Value = after;
            var count = 0;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    count++;
                    var ordering = reader.GetInt64(0);
                    var persistenceId = reader.GetString(1);
                    object? payload = null;
                    if (!reader.GetBoolean(7) && interesting(persistenceId))
                        payload = system.Serialization.Deserialize(
                            (byte[])reader.GetValue(4), reader.IsDBNull(6) ? 0 : reader.GetInt32(6), reader.IsDBNull(5) ? string.Empty : reader.GetString(5));
                    read.Add(new CommittedEvent(ordering, persistenceId, reader.GetInt64(2), reader.GetInt64(3), payload));
                    after = ordering;
                }
            }

            if (read.Count >= chunk || (count < ReadBatch && read.Count > 0))
            {
                yield return read;
                read = [];
            }

            if (count < ReadBatch) yield break;
        }
    }

    /// <summary>
    /// What the writer committed, waiting for the reader. The writer's thread only enqueues; it signals the reader
    /// only when a chunk's worth has queued, and stops taking batches (and marks the overflow) beyond the capacity.
    /// One thread adds (the committer's), so what is queued is always a prefix of what was committed. The semaphore
    /// is never disposed: the writer may still hold this subscription for a moment after it ends.
    /// </summary>
    private sealed class Inbox(int chunk, int capacity)
    {
        private readonly ConcurrentQueue<IReadOnlyList<CommittedEvent>> _batches = new();
        private readonly SemaphoreSlim _full = new(0, 1);
        private int _queued;
        private volatile bool _overflowed;

        public void Add(IReadOnlyList<CommittedEvent> batch)
        {
            if (_overflowed) return;
            var queued = Interlocked.Add(ref _queued, batch.Count);
            if (queued > capacity)
            {
                _overflowed = true;
                return;
            }

            _batches.Enqueue(batch);
            if (queued >= chunk && queued - batch.Count < chunk) Release();
        }

        public async Task WaitAsync(TimeSpan window, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _queued) >= chunk || _overflowed) return;
            await _full.WaitAsync(window, cancellationToken);
        }

        public (List<IReadOnlyList<CommittedEvent>> Batches, bool Overflowed) Drain()
        {
            // Read the flag first: batches queued before an overflow are all in the queue by then.
            var overflowed = _overflowed;
            var batches = new List<IReadOnlyList<CommittedEvent>>();
            while (_batches.TryDequeue(out var batch))
            {
                Interlocked.Add(ref _queued, -batch.Count);
                batches.Add(batch);
            }

            // A signal left over from a chunk just drained would wake the next wait early; take it back.
            _full.Wait(0);
            return (batches, overflowed);
        }

        private void Release()
        {
            try
            {
                _full.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }
}
