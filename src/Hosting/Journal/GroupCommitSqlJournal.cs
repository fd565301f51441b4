using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal;
using Microsoft.Data.Sqlite;

namespace Bank.Hosting.Journal;

/// <summary>
/// Akka.Persistence.Sql's journal, with writes committed in groups: the events of every persistent actor that wrote
/// while the last transaction committed go into the next one (<see cref="SqliteGroupCommitter"/>: one writer thread,
/// one fsync; <see cref="PostgresGroupCommitter"/>: one binary COPY, one WAL flush). Rows go into the plugin's own table
/// in its own format, so its replays, highest sequence numbers, deletes and queries (AllEvents) work unchanged.
/// Tagged events keep the plugin's own write path.
/// </summary>
public sealed class GroupCommitSqlJournal : SqlWriteJournal
{
    private readonly ConcurrentDictionary<string, Task> _pending = new(StringComparer.Ordinal);
    private readonly string? _sqliteConnectionString;
    private readonly string? _postgresConnectionString;
    private readonly JournalTableNames _table;
    private readonly string? _writerUuid;
    private readonly string? _defaultSerializer;
    private readonly int _bufferSize;
    private readonly int _batchSize;
    private readonly TimeSpan _writeTimeout;
    private readonly ExtendedActorSystem _system;
    private SqliteGroupCommitter? _committer;
    private PostgresGroupCommitter? _postgres;

    public GroupCommitSqlJournal(Config journalConfig) : base(journalConfig)
    {
        var config = new JournalConfig(journalConfig.WithFallback(SqlPersistence.DefaultJournalConfiguration));
        if (config.PluginConfig.TagMode != TagMode.Csv && config.ProviderName.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
            _sqliteConnectionString = config.ConnectionString;
        else if (config.PluginConfig.TagMode != TagMode.Csv && config.ProviderName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
            _postgresConnectionString = config.ConnectionString;

        _table = TableNames(config);
        _writerUuid = _table.WriterUuid is null ? null : Guid.NewGuid().ToString("N");
        _defaultSerializer = config.DefaultSerializer;
        _bufferSize = config.DaoConfig.BufferSize;
        _batchSize = journalConfig.GetInt("group-commit-max-rows", 1000);
        _writeTimeout = journalConfig.GetTimeSpan("write-timeout", TimeSpan.FromSeconds(4));
        _system = (ExtendedActorSystem)Context.System;
    }

    /// <summary>The journal table's names as the plugin's configuration (<paramref name="config"/>) sets them.</summary>
    public static JournalTableNames TableNames(JournalConfig config)
    {
        var events = config.TableConfig.EventJournalTable;
        var columns = events.ColumnNames;
        return new JournalTableNames(events.Name, columns.Deleted, columns.PersistenceId, columns.SequenceNumber,
            columns.Created, columns.Message, columns.Manifest, columns.Identifier,
            events.UseWriterUuidColumn ? columns.WriterUuid : null, columns.Ordering);
    }

    /// <summary>The journal table's names in an actor system's configuration of the plugin.</summary>
    public static JournalTableNames TableNames(Config systemConfig) =>
        TableNames(new JournalConfig(systemConfig.GetConfig("akka.persistence.journal.sql").WithFallback(SqlPersistence.DefaultJournalConfiguration)));

    protected override void PreStart()
    {
        if (_sqliteConnectionString is not null)
            _committer = SqliteGroupCommitter.Acquire(_sqliteConnectionString, _bufferSize, _batchSize);
        if (_postgresConnectionString is not null)
            _postgres = PostgresGroupCommitter.Acquire(_postgresConnectionString, _bufferSize, _batchSize, _writeTimeout);
        base.PreStart();
    }

    protected override void PostStop()
    {
        try
        {
            base.PostStop();
        }
        finally
        {
            // Released off the actor's thread: the last holder waits for the writes already queued to go in.
            var (sqlite, postgres) = (_committer, _postgres);
            _committer = null;
            _postgres = null;
            _ = Task.Run(() =>
            {
                sqlite?.Dispose();
                postgres?.Dispose();
            });
        }
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages as IReadOnlyList<AtomicWrite> ?? messages.ToList();
        if ((_committer is null && _postgres is null) || writes.Count == 0 || writes.Any(HasTags))
            return base.WriteMessagesAsync(writes, cancellationToken);

        var now = DateTime.UtcNow.Ticks;
        var rejections = new Exception?[writes.Count];
        var rows = new List<JournalEventRow>();
        for (var i = 0; i < writes.Count; i++)
        {
            // An event that cannot be serialized rejects its own atomic write only, as in the plugin.
            var before = rows.Count;
            try
            {
                var events = (IImmutableList<IPersistentRepresentation>)writes[i].Payload;
                for (var j = 0; j < events.Count; j++) rows.Add(Serialize(events[j], now));
            }
            catch (Exception e)
            {
                rows.RemoveRange(before, rows.Count - before);
                rejections[i] = e;
            }
        }

        var persistenceId = writes[0].PersistenceId;
        var written = rows.Count == 0 ? Task.CompletedTask
            : _committer is not null ? _committer.Append(_table, rows)
            : _postgres!.Append(_table, rows);
        _pending[persistenceId] = written;
        _ = written.ContinueWith(
            done => _pending.TryRemove(new KeyValuePair<string, Task>(persistenceId, done)),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Completed(written, rejections);

        static async Task<IImmutableList<Exception>> Completed(Task written, Exception?[] rejections)
        {
            await written.ConfigureAwait(false);
            return rejections.ToImmutableList()!;
        }
    }

    /// <summary>Events a replay reads from SQLite per trip to the reader's thread: other recoveries' reads go between.</summary>
    private const int ReplayBatch = 1000;

    /// <summary>
    /// On SQLite the events are read by the database's <see cref="SqliteRecoveryReader"/>, in batches, off the writer's
    /// lock (the plugin's query runs in a transaction that takes it) and without its stream per replay. The reader's
    /// thread reads the next batch while this one is deserialized and delivered.
    /// </summary>
    public override async Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr,
        long max, Action<IPersistentRepresentation> recoveryCallback)
    {
        if (_committer is { } committer)
        {
            try
            {
                var from = Math.Max(1, fromSequenceNr);
                var limit = (int)Math.Min(max, ReplayBatch);
                var reading = from <= toSequenceNr && max > 0 ? committer.Reader.Events(_table, persistenceId, from, toSequenceNr, limit) : null;
                for (var left = max; reading is not null;)
                {
                    var rows = await reading;
                    left -= rows.Count;
                    // Only a full batch may have more after it.
                    var full = rows.Count == limit;
                    limit = (int)Math.Min(left, ReplayBatch);
                    reading = full && left > 0 && rows[^1].SequenceNr < toSequenceNr
                        ? committer.Reader.Events(_table, persistenceId, rows[^1].SequenceNr + 1, toSequenceNr, limit)
                        : null;
                    foreach (var row in rows)
                        recoveryCallback(new Persistent(
                            StoredPayload.Read(_system, row.Payload, row.SerializerId, row.Manifest, _defaultSerializer),
                            row.SequenceNr, persistenceId, row.Manifest, isDeleted: false, ActorRefs.NoSender, row.WriterUuid, row.CreatedTicks));
                }

                return;
            }
            catch (SqliteException e) when (SqliteRecoveryReader.IsMissingTable(e))
            {
                // The plugin creates its table as it starts; until then it answers itself.
            }
        }

        await base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback);
    }

    /// <summary>
    /// A recovering actor reads its highest sequence number only after its own writes in flight are in; on SQLite the
    /// read goes to the database's <see cref="SqliteRecoveryReader"/>.
    /// </summary>
    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (_pending.TryGetValue(persistenceId, out var written))
            await written.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (_committer is { } committer)
        {
            try
            {
                return await committer.Reader.HighestSequenceNr(_table, persistenceId, fromSequenceNr);
            }
            catch (SqliteException e) when (SqliteRecoveryReader.IsMissingTable(e))
            {
                // The plugin creates its table as it starts; until then it answers itself.
            }
        }

        try
        {
            return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
        }
        catch (Exception e)
        {
            PostgresGroupCommitter.DropPooledConnectionsAfter(e);
            throw;
        }
    }

    private JournalEventRow Serialize(IPersistentRepresentation representation, long now)
    {
        var payload = representation.Payload;
        var stored = StoredPayload.Of(_system, payload, _defaultSerializer);
        return new JournalEventRow(representation.PersistenceId, representation.SequenceNr,
            representation.Timestamp == 0 ? now : representation.Timestamp, stored.Bytes, stored.Manifest, stored.SerializerId, _writerUuid, payload);
    }

    private static bool HasTags(AtomicWrite write) =>
        write.Payload is IImmutableList<IPersistentRepresentation> events && events.Any(e => e.Payload is Akka.Persistence.Journal.Tagged);
}
