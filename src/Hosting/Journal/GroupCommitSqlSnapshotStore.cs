using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Snapshot;
using Akka.Pattern;
using Microsoft.Data.Sqlite;

namespace Bank.Hosting.Journal;

/// <summary>
/// Akka.Persistence.Sql's snapshot store, with SQLite saves and deletes going through the database's one writer
/// (<see cref="SqliteGroupCommitter"/>): they commit with the journal's next group instead of waiting for SQLite's
/// write lock against it, which stalled every account's writes when many accounts snapshot at once. Rows are the
/// plugin's own, so its loads read them; PostgreSQL keeps the plugin's path.
/// </summary>
public sealed class GroupCommitSqlSnapshotStore : SqlSnapshotStore
{
    private readonly string? _sqliteConnectionString;
    private readonly SnapshotTableColumnNames _columns;
    private readonly string _table;
    private readonly SnapshotTableNames _names;
    private readonly string? _defaultSerializer;
    private readonly ExtendedActorSystem _system;
    private SqliteGroupCommitter? _committer;
    // PostgreSQL: the plugin's saves and deletes, at most this many at once (see the constructor).
    private readonly SemaphoreSlim? _postgresWrites;

    public GroupCommitSqlSnapshotStore(Config snapshotConfig) : base(snapshotConfig)
    {
        var config = new SnapshotConfig(snapshotConfig.WithFallback(SqlPersistence.DefaultSnapshotConfiguration));
        if (config.ProviderName.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
            _sqliteConnectionString = config.ConnectionString;
        _table = config.TableConfig.SnapshotTable.Name;
        _columns = config.TableConfig.SnapshotTable.ColumnNames;
        _names = new SnapshotTableNames(_table, _columns.PersistenceId, _columns.SequenceNumber, _columns.Created, _columns.Snapshot,
            _columns.Manifest, _columns.SerializerId);
        _defaultSerializer = config.DefaultSerializer;
        _system = (ExtendedActorSystem)Context.System;
        // Accounts reach their snapshot points together: each of the plugin's saves opens a connection of its own, and
        // together they ran PostgreSQL out of connection slots (saves failed, and the commits waiting for a connection
        // stalled the write path).
        if (config.ProviderName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase))
            _postgresWrites = new SemaphoreSlim(Math.Max(1, _system.Settings.Config.GetInt("bank.persistence.postgres-parallelism", 4)));
    }

    /// <summary>
    /// Akka's breaker, half open, throws at once for every call but its one trial instead of failing that call: that
    /// would crash this store, and a restarted SQL store re-initializes, holding every recovery until the database is
    /// back. Such a call is answered as failed instead, as it would be with the breaker open.
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (OpenCircuitException e)
        {
            object? failure = message switch
            {
                LoadSnapshot => new LoadSnapshotFailed(e),
                SaveSnapshot save => new SaveSnapshotFailure(save.Metadata, e),
                DeleteSnapshot delete => new DeleteSnapshotFailure(delete.Metadata, e),
                DeleteSnapshots delete => new DeleteSnapshotsFailure(delete.Criteria, e),
                _ => null,
            };
            if (failure is null) throw;
            Sender.Tell(failure);
            return true;
        }
    }

    protected override void PreStart()
    {
        if (_sqliteConnectionString is not null)
            _committer = SqliteGroupCommitter.Acquire(_system.Settings.Config, _sqliteConnectionString);

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
            var committer = _committer;
            _committer = null;
            if (committer is not null) _ = Task.Run(committer.Dispose);
        }
    }

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        if (_postgresWrites is not null) return OneOfFewAsync(() => base.SaveAsync(metadata, snapshot, cancellationToken), cancellationToken);
        if (_committer is null) return base.SaveAsync(metadata, snapshot, cancellationToken);

        var stored = StoredPayload.Of(_system, snapshot, _defaultSerializer);
        var c = _columns;
        return _committer.Execute((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                $"INSERT OR REPLACE INTO [{_table}] ([{c.PersistenceId}], [{c.SequenceNumber}], [{c.Created}], [{c.Snapshot}], [{c.Manifest}], [{c.SerializerId}]) " +
                "VALUES ($p, $s, $c, $b, $m, $i)";
            command.Parameters.AddWithValue("$p", metadata.PersistenceId);
            command.Parameters.AddWithValue("$s", metadata.SequenceNr);
            command.Parameters.AddWithValue("$c", metadata.Timestamp.Ticks);
            command.Parameters.AddWithValue("$b", stored.Bytes);
            command.Parameters.AddWithValue("$m", stored.Manifest);
            command.Parameters.AddWithValue("$i", stored.SerializerId);
            command.ExecuteNonQuery();
        });
    }

    /// <summary>On SQLite the newest snapshot is read by the database's <see cref="SqliteRecoveryReader"/>.</summary>
    protected override async Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        if (_committer is { } committer)
        {
            try
            {
                var row = await committer.Reader.LatestSnapshot(_names, persistenceId, criteria.MaxSequenceNr, criteria.MaxTimeStamp.Ticks);
                return row is null ? null : new SelectedSnapshot(
                    new SnapshotMetadata(row.PersistenceId, row.SequenceNr, new DateTime(row.CreatedTicks)),
                    StoredPayload.Read(_system, row.Payload, row.SerializerId, row.Manifest, _defaultSerializer));
            }
            catch (SqliteException e) when (SqliteRecoveryReader.IsMissingTable(e))
            {
                // The plugin creates its table as it starts; until then it answers itself.
            }
        }

        try
        {
            return await base.LoadAsync(persistenceId, criteria, cancellationToken);
        }
        catch (Exception e)
        {
            PostgresGroupCommitter.DropPooledConnectionsAfter(e);
            throw;
        }
    }

    protected override Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        if (_postgresWrites is not null) return OneOfFewAsync(() => base.DeleteAsync(persistenceId, criteria, cancellationToken), cancellationToken);
        if (_committer is null) return base.DeleteAsync(persistenceId, criteria, cancellationToken);

        // The plugin's four cases in one: a bound at its maximum selects everything on that side.
        var c = _columns;
        return _committer.Execute((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"DELETE FROM [{_table}] WHERE [{c.PersistenceId}] = $p AND [{c.SequenceNumber}] <= $s AND [{c.Created}] <= $c";
            command.Parameters.AddWithValue("$p", persistenceId);
            command.Parameters.AddWithValue("$s", criteria.MaxSequenceNr);
            command.Parameters.AddWithValue("$c", criteria.MaxTimeStamp.Ticks);
            command.ExecuteNonQuery();
        });
    }

    /// <summary>Runs one of the plugin's PostgreSQL writes once fewer than postgres-parallelism are under way.</summary>
    private async Task OneOfFewAsync(Func<Task> write, CancellationToken cancellationToken)
    {
        await _postgresWrites!.WaitAsync(cancellationToken);
        try
        {
            await write();
        }
        finally
        {
            _postgresWrites.Release();
        }
    }
}
