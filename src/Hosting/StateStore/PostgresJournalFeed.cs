using System.Diagnostics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Bank.Hosting.Journal;
using Npgsql;

namespace Bank.Hosting.StateStore;

/// <summary>
/// The journal in PostgreSQL as one ordered feed, from an offset on, for the state store. Every node of the cluster
/// writes it, so it is polled: one indexed query per interval that reads only the columns the store needs and
/// deserializes only the events it wants (Akka.Persistence.Query's AllEvents also tracks every ordering in an actor of
/// its own and materializes each row through linq2db, which slowed the write path: docs/benchmarks.md). A row's
/// ordering comes from PostgreSQL's sequence when it is inserted, but the row shows only when its transaction commits,
/// so a hole in the orderings may still fill: the feed stops at a hole and waits, and passes over one only when it is
/// still open after <c>gapTimeout</c> (an insert that failed or rolled back, which never fills). Chunks come at least
/// once per interval (empty when nothing was new).
/// </summary>
public static class PostgresJournalFeed
{
    public static async IAsyncEnumerable<IReadOnlyList<CommittedEvent>> Follow(
        ExtendedActorSystem system, string connectionString, JournalTableNames table, long from, Func<string, bool> interesting,
        TimeSpan interval, int chunk, TimeSpan gapTimeout, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sql =
            $"SELECT \"{table.Ordering}\", \"{table.PersistenceId}\", \"{table.SequenceNr}\", \"{table.Created}\", \"{table.Message}\", " +
            $"\"{table.Manifest}\", \"{table.SerializerId}\", \"{table.Deleted}\" FROM \"{table.Table}\" " +
            $"WHERE \"{table.Ordering}\" > $1 ORDER BY \"{table.Ordering}\" LIMIT {chunk}";
        var last = from;
        long? holeSeen = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var taken = new List<CommittedEvent>();
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = last } } };
                await using var reader = await ReadAfterAsync(command, cancellationToken);
                var expected = last + 1;
                while (reader is not null && await reader.ReadAsync(cancellationToken))
                {
                    var ordering = reader.GetInt64(0);
                    if (ordering != expected)
                    {
                        // A hole: wait for it to fill, unless it has been open too long to ever fill.
                        if (taken.Count > 0) break;
                        holeSeen ??= Stopwatch.GetTimestamp();
                        if (Stopwatch.GetElapsedTime(holeSeen.Value) < gapTimeout) break;
                    }

                    holeSeen = null;
                    var persistenceId = reader.GetString(1);
                    object? payload = null;
                    if (!reader.GetBoolean(7) && interesting(persistenceId))
                        payload = system.Serialization.Deserialize(
                            reader.GetFieldValue<byte[]>(4), reader.IsDBNull(6) ? 0 : reader.GetInt32(6), reader.IsDBNull(5) ? string.Empty : reader.GetString(5));
                    taken.Add(new CommittedEvent(ordering, persistenceId, reader.GetInt64(2), reader.GetInt64(3), payload));
                    expected = ordering + 1;
                }
            }

            if (taken.Count > 0) last = taken[^1].Ordering;
            yield return taken;
            // A full chunk: more is waiting, read on at once.
            if (taken.Count < chunk) await Task.Delay(interval, cancellationToken);
        }
    }

    /// <summary>The rows after the offset; null while the journal has not created its table (nothing is stored yet).</summary>
    private static async Task<NpgsqlDataReader?> ReadAfterAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        try
        {
            return await command.ExecuteReaderAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }
}
