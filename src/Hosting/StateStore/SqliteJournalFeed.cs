using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Akka.Actor;
using Bank.Hosting.Journal;
using Microsoft.Data.Sqlite;

namespace Bank.Hosting.StateStore;

/// <summary>
/// The journal of a SQLite node as one ordered feed, from an offset on: what is stored after the offset, read from the
/// journal table, then every batch the node's <see cref="SqliteGroupCommitter"/> commits, as it commits it, with the
/// events still in memory: no polling, no query and no deserializing on the live path. Orderings are checked: one
/// seen twice is skipped, one missing (a write that did not go through the committer, or batches dropped while the
/// feed was slow) is read back from the table, so nothing is lost or applied out of order.
/// </summary>
public static class SqliteJournalFeed
{
    private const int ReadBatch = 1000;

    /// <param name="interesting">Whether events of this persistence id are wanted (others are not deserialized).</param>
    /// <param name="capacity">Committed batches held while the consumer is busy; beyond them the feed reads back.</param>
    public static async IAsyncEnumerable<CommittedEvent> Follow(
        ExtendedActorSystem system, SqliteGroupCommitter committer, string connectionString, JournalTableNames table, long from,
        Func<string, bool> interesting, int capacity = 64, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = from;
        while (!cancellationToken.IsCancellationRequested)
        {
            var live = Channel.CreateBounded<IReadOnlyList<CommittedEvent>>(new BoundedChannelOptions(capacity) { SingleReader = true });
            // Full: this subscription ends, and the feed reads what it missed from the table before it subscribes again.
            void OnCommitted(IReadOnlyList<CommittedEvent> batch)
            {
                if (!live.Writer.TryWrite(batch)) live.Writer.TryComplete();
            }

            committer.Committed += OnCommitted;
            try
            {
                // Subscribed first, then read: an event committed in between is in both, and skipped the second time.
                foreach (var stored in ReadStored(system, connectionString, table, last, long.MaxValue, interesting))
                {
                    last = stored.Ordering;
                    yield return stored;
                }

                await foreach (var batch in live.Reader.ReadAllAsync(cancellationToken))
                {
                    foreach (var committed in batch)
                    {
                        if (committed.Ordering <= last) continue;
                        if (committed.Ordering > last + 1)
                        {
                            foreach (var missed in ReadStored(system, connectionString, table, last, committed.Ordering - 1, interesting))
                                yield return missed;
                        }

                        last = committed.Ordering;
                        yield return committed;
                    }
                }
            }
            finally
            {
                committer.Committed -= OnCommitted;
            }
        }
    }

    /// <summary>Stored events with orderings after <paramref name="after"/> and up to <paramref name="upTo"/>, in order.</summary>
    private static IEnumerable<CommittedEvent> ReadStored(
        ExtendedActorSystem system, string connectionString, JournalTableNames table, long after, long upTo, Func<string, bool> interesting)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT [{table.Ordering}], [{table.PersistenceId}], [{table.SequenceNr}], [{table.Created}], [{table.Message}], [{table.Manifest}], " +
            $"[{table.SerializerId}], [{table.Deleted}] FROM [{table.Table}] WHERE [{table.Ordering}] > $after AND [{table.Ordering}] <= $upTo ORDER BY [{table.Ordering}] LIMIT {ReadBatch}";
        var afterParameter = command.Parameters.Add("$after", SqliteType.Integer);
        command.Parameters.AddWithValue("$upTo", upTo);
        while (true)
        {
            afterParameter.Value = after;
            var read = new List<CommittedEvent>(ReadBatch);
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var ordering = reader.GetInt64(0);
                    var persistenceId = reader.GetString(1);
                    object? payload = null;
                    if (!reader.GetBoolean(7) && interesting(persistenceId))
                        payload = system.Serialization.Deserialize(
                            (byte[])reader.GetValue(4), reader.IsDBNull(6) ? 0 : reader.GetInt32(6), reader.IsDBNull(5) ? string.Empty : reader.GetString(5));
                    read.Add(new CommittedEvent(ordering, persistenceId, reader.GetInt64(2), reader.GetInt64(3), payload));
                }
            }

            foreach (var e in read) yield return e;
            if (read.Count < ReadBatch) yield break;
            after = read[^1].Ordering;
        }
    }
}
