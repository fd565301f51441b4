using Akka.Actor;
using Akka.Coordination;
using Akka.Event;
using Npgsql;
using AkkaLease = Akka.Coordination.Lease;

namespace Bank.Hosting.Lease;

/// <summary>Who holds a lease, since when, and how long until it expires unless renewed (on the database's clock).</summary>
public sealed record LeaseHolder(string Owner, DateTimeOffset Since, TimeSpan ExpiresIn);

/// <summary>
/// An Akka.Coordination lease kept as one row of <see cref="Table"/> in a PostgreSQL database (the journal's own, so
/// whoever writes the journal can reach it). Every time is the database's <c>now()</c>, never a node's clock: two nodes
/// with clocks apart still agree on who holds it and when it expires. Once acquired it renews itself every
/// heartbeat-interval for heartbeat-timeout; an owner that dies stops renewing and the row expires.
/// </summary>
public sealed class PostgresLease : AkkaLease
{
    /// <summary>The table, created when missing, as the journal's own tables are.</summary>
    public const string Table = "bank_lease";

    private readonly string _connectionString;
    private readonly ILoggingAdapter _log;
    private readonly object _gate = new();
    private bool _tableReady;
    private CancellationTokenSource? _heartbeat;
    private Action<Exception>? _lost;
    private long _validUntil;

    /// <summary>Made by Akka's <see cref="LeaseProvider"/>: the connection string is the lease's own
    /// <c>connection-string</c>, or else the journal's (<c>akka.persistence.journal.sql.connection-string</c>).</summary>
    public PostgresLease(LeaseSettings settings, ActorSystem system)
        : this(settings, ConnectionStringOf(settings, system), Logging.GetLogger(system, typeof(PostgresLease)))
    {
    }

    public PostgresLease(LeaseSettings settings, string connectionString, ILoggingAdapter log) : base(settings)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("a PostgreSQL lease needs a connection string: the lease's connection-string or the journal's");
        // As given, so that the lease shares the journal's connection pool rather than opening connections of its own.
        _connectionString = connectionString;
        _log = log;
    }

    private TimeSpan Ttl => Settings.TimeoutSettings.HeartbeatTimeout;

    public override Task<bool> Acquire() => AcquireFrom([], null);

    public override Task<bool> Acquire(Action<Exception> leaseLostCallback) => AcquireFrom([], leaseLostCallback);

    /// <summary>
    /// Acquires the lease when it is free, expired or already ours, or held by one of <paramref name="predecessors"/>
    /// (owners the caller knows to be its own kind: earlier holders of the same cluster), in one atomic statement.
    /// The holder's "since" is kept on a renewal or a take-over from a predecessor.
    /// </summary>
    public async Task<bool> AcquireFrom(IReadOnlyCollection<string> predecessors, Action<Exception>? leaseLostCallback)
    {
        var sent = Environment.TickCount64;
        var acquired = await RunAsync(async (connection, token) =>
        {
            await using var command = Command(
                $"""
                 INSERT INTO {Table} AS held (name, owner, since, expires_at)
                 VALUES (@name, @owner, now(), now() + @ttl)
                 ON CONFLICT (name) DO UPDATE SET
                   owner = excluded.owner,
                   since = CASE WHEN held.owner = excluded.owner OR held.owner = ANY(@predecessors) THEN held.since ELSE excluded.since END,
                   expires_at = excluded.expires_at
                 WHERE held.owner = excluded.owner OR held.owner = ANY(@predecessors) OR held.expires_at <= now()
                 RETURNING owner
                 """, connection);
            command.Parameters.AddWithValue("name", Settings.LeaseName);
            command.Parameters.AddWithValue("owner", Settings.OwnerName);
            command.Parameters.AddWithValue("ttl", Ttl);
            command.Parameters.AddWithValue("predecessors", predecessors.ToArray());
            return await command.ExecuteScalarAsync(token) is not null;
        }, "acquire");
        if (acquired)
        {
            if (leaseLostCallback is not null) WhenLost(leaseLostCallback);
            StartHeartbeat(sent);
        }

        return acquired;
    }

    /// <summary>Who is told when the lease is lost (taken by another owner, or not renewed in time), however it was acquired.</summary>
    public void WhenLost(Action<Exception> lost)
    {
        lock (_gate) _lost = lost;
    }

    /// <summary>Gives the lease up if it is still ours; true when it was.</summary>
    public override async Task<bool> Release()
    {
        StopHeartbeat();
        return await RunAsync(async (connection, token) =>
        {
            await using var command = Command($"DELETE FROM {Table} WHERE name = @name AND owner = @owner", connection);
            command.Parameters.AddWithValue("name", Settings.LeaseName);
            command.Parameters.AddWithValue("owner", Settings.OwnerName);
            return await command.ExecuteNonQueryAsync(token) == 1;
        }, "release");
    }

    /// <summary>Stops renewing without releasing: the row expires after heartbeat-timeout unless someone takes it over.</summary>
    public void StopRenewing() => StopHeartbeat();

    /// <summary>True while the last renewal (or the acquisition) is younger than heartbeat-timeout, by this node's
    /// monotonic clock counted from before the statement was sent, so it never outlasts the row.</summary>
    public override bool CheckLease()
    {
        lock (_gate) return _heartbeat is not null && Environment.TickCount64 < _validUntil;
    }

    /// <summary>The row as it stands, or null when no one holds the lease.</summary>
    public Task<LeaseHolder?> HolderAsync() => RunAsync(async (connection, token) =>
    {
        await using var command = Command(
            $"SELECT owner, since, GREATEST(0, EXTRACT(EPOCH FROM expires_at - now()))::float8 FROM {Table} WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", Settings.LeaseName);
        await using var reader = await command.ExecuteReaderAsync(token);
        if (!await reader.ReadAsync(token)) return null;
        return new LeaseHolder(reader.GetString(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), TimeSpan.FromSeconds(reader.GetDouble(2)));
    }, "read");

    /// <summary>Extends the lease by heartbeat-timeout if it is still ours; false when another owner has it.</summary>
    private Task<bool> RenewAsync() => RunAsync(async (connection, token) =>
    {
        await using var command = Command(
            $"UPDATE {Table} SET expires_at = now() + @ttl WHERE name = @name AND owner = @owner", connection);
        command.Parameters.AddWithValue("name", Settings.LeaseName);
        command.Parameters.AddWithValue("owner", Settings.OwnerName);
        command.Parameters.AddWithValue("ttl", Ttl);
        return await command.ExecuteNonQueryAsync(token) == 1;
    }, "renew");

    /// <param name="sent">When the acquiring statement was sent: the row expires heartbeat-timeout after some moment later.</param>
    private void StartHeartbeat(long sent)
    {
        CancellationTokenSource stop;
        lock (_gate)
        {
            _validUntil = sent + (long)Ttl.TotalMilliseconds;
            if (_heartbeat is not null) return;
            stop = _heartbeat = new CancellationTokenSource();
        }

        _ = HeartbeatAsync(stop.Token);
    }

    private void StopHeartbeat()
    {
        CancellationTokenSource? stop;
        lock (_gate)
        {
            stop = _heartbeat;
            _heartbeat = null;
        }

        stop?.Cancel();
        stop?.Dispose();
    }

    private async Task HeartbeatAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Settings.TimeoutSettings.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var sent = Environment.TickCount64;
                Exception? failure = null;
                try
                {
                    if (await RenewAsync())
                    {
                        lock (_gate) _validUntil = sent + (long)Ttl.TotalMilliseconds;
                        continue;
                    }

                    failure = new LeaseException($"the lease '{Settings.LeaseName}' was taken by another owner");
                }
                catch (LeaseException unknown)
                {
                    _log.Warning("Could not renew the lease {0}: {1}", Settings.LeaseName, unknown.Message);
                    if (CheckLease()) continue;
                    failure = new LeaseException($"the lease '{Settings.LeaseName}' could not be renewed within its {Ttl.TotalSeconds:0.#} s", unknown);
                }

                if (stop.IsCancellationRequested) return;
                StopHeartbeat();
                Action<Exception>? lost;
                lock (_gate) lost = _lost;
                lost?.Invoke(failure);
                return;
            }
        }
        catch (OperationCanceledException)
        {
            // Released.
        }
    }

    /// <summary>One statement on its own connection within lease-operation-timeout; a failure that leaves the outcome
    /// unknown is a <see cref="LeaseException"/>, as the Lease API asks.</summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> statement, string what)
    {
        using var limit = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout);
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(limit.Token);
            await EnsureTableAsync(connection, limit.Token);
            return await statement(connection, limit.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            throw new LeaseException($"could not {what} the lease '{Settings.LeaseName}' in PostgreSQL: {e.Message}", e);
        }
    }

    private async Task EnsureTableAsync(NpgsqlConnection connection, CancellationToken token)
    {
        if (Volatile.Read(ref _tableReady)) return;
        try
        {
            await using var create = Command(
                $"CREATE TABLE IF NOT EXISTS {Table} (name text PRIMARY KEY, owner text NOT NULL, since timestamptz NOT NULL, expires_at timestamptz NOT NULL)",
                connection);
            await create.ExecuteNonQueryAsync(token);
        }
        catch (PostgresException race) when (race.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Another node created it at the same moment (IF NOT EXISTS does not lock the catalog).
        }

        Volatile.Write(ref _tableReady, true);
    }

    private NpgsqlCommand Command(string sql, NpgsqlConnection connection) =>
        new(sql, connection) { CommandTimeout = Math.Max(1, (int)Math.Ceiling(Settings.TimeoutSettings.OperationTimeout.TotalSeconds)) };

    private static string ConnectionStringOf(LeaseSettings settings, ActorSystem system) =>
        settings.LeaseConfig.GetString("connection-string", string.Empty) is { Length: > 0 } own
            ? own
            : system.Settings.Config.GetString("akka.persistence.journal.sql.connection-string", string.Empty);
}
