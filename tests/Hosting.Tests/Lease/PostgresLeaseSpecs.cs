using Akka.Configuration;
using Akka.Coordination;
using Akka.Event;
using Bank.Hosting.Lease;
using Npgsql;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// The journal's cluster lease in PostgreSQL: one owner at a time, renewed while held, expiring on the database's clock
/// when its owner stops renewing, released at once when given up, and taken over only by a named predecessor's
/// successor. Each spec has a database of its own; needs BANK_TEST_POSTGRES (skipped with that reason elsewhere).
/// </summary>
public sealed class PostgresLeaseSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly List<PostgresLease> _leases = [];
    private string? _admin;
    private string _database = "";
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _admin = Environment.GetEnvironmentVariable("BANK_TEST_POSTGRES");
        if (string.IsNullOrEmpty(_admin)) return;
        _database = "bank_test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(_admin, $"CREATE DATABASE \"{_database}\"");
        _connectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        foreach (var lease in _leases) await Release(lease);
        if (string.IsNullOrEmpty(_admin)) return;
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
    }

    [SkippableFact]
    public async Task The_first_owner_acquires_and_a_second_is_refused_with_the_holder_named()
    {
        var first = LeaseOf("cluster-a");
        var second = LeaseOf("cluster-b");

        Assert.True(await first.Acquire());
        Assert.True(first.CheckLease());
        Assert.False(await second.Acquire());
        Assert.False(second.CheckLease());

        var holder = await second.HolderAsync();
        Assert.NotNull(holder);
        Assert.Equal("cluster-a", holder.Owner);
        Assert.InRange(holder.ExpiresIn, TimeSpan.Zero, Ttl);
        Assert.InRange(holder.Since, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Contains("held by cluster-a since", ClusterLease.Refusal(holder));
    }

    [SkippableFact]
    public async Task A_held_lease_is_renewed_past_its_timeout()
    {
        var holder = LeaseOf("cluster-a");
        var other = LeaseOf("cluster-b");
        Assert.True(await holder.Acquire());

        // Twice its timeout: without renewals it would have expired and the other owner got it.
        await Holds.ForAsync(Ttl * 2, async () =>
        {
            Assert.False(await other.Acquire());
            Assert.True(holder.CheckLease());
        });
    }

    [SkippableFact]
    public async Task A_dead_owners_lease_expires_on_the_databases_clock_and_another_owner_takes_it()
    {
        // A holder that stopped renewing (killed): its row alone, expiring 2 s from the database's now().
        Assert.True(await LeaseOf("probe").Acquire());
        await Release(_leases[0]);
        await ExecuteAsync(_connectionString,
            $"INSERT INTO {PostgresLease.Table} (name, owner, since, expires_at) VALUES ('{ClusterLease.LeaseName}', 'dead', now(), now() + interval '2 seconds')");
        var next = LeaseOf("cluster-b");

        Assert.False(await next.Acquire());
        var holder = await next.HolderAsync();
        Assert.Equal("dead", holder!.Owner);
        Assert.InRange(holder.ExpiresIn, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2));
        await Eventually.HoldsAsync(() => next.Acquire(), "the dead owner's lease to expire", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
        Assert.Equal("cluster-b", (await next.HolderAsync())!.Owner);
    }

    [SkippableFact]
    public async Task A_released_lease_is_free_at_once_and_only_its_owner_can_release_it()
    {
        var first = LeaseOf("cluster-a");
        var second = LeaseOf("cluster-b");
        Assert.True(await first.Acquire());

        Assert.False(await second.Release());
        Assert.False(await second.Acquire());

        Assert.True(await first.Release());
        Assert.False(first.CheckLease());
        Assert.Null(await second.HolderAsync());
        Assert.True(await second.Acquire());
    }

    [SkippableFact]
    public async Task A_successor_takes_over_from_its_predecessor_keeping_since_and_the_predecessor_learns_it_lost()
    {
        var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var oldest = LeaseOf("node-1#1");
        var stranger = LeaseOf("node-9#9");
        var successor = LeaseOf("node-2#2");
        Assert.True(await oldest.Acquire(e => lost.TrySetResult(e)));
        var since = (await oldest.HolderAsync())!.Since;

        Assert.False(await stranger.AcquireFrom(["node-3#3"], null));
        Assert.True(await successor.AcquireFrom(["node-1#1"], null));

        var holder = (await successor.HolderAsync())!;
        Assert.Equal(("node-2#2", since), (holder.Owner, holder.Since));
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(oldest.CheckLease());
    }

    [SkippableFact]
    public async Task Owners_racing_for_a_fresh_database_get_it_once()
    {
        var racers = Enumerable.Range(1, 6).Select(i => LeaseOf($"cluster-{i}")).ToList();

        var results = await Task.WhenAll(racers.Select(lease => Task.Run(() => lease.Acquire())));

        Assert.Single(results, acquired => acquired);
    }

    private PostgresLease LeaseOf(string owner)
    {
        Skip.If(string.IsNullOrEmpty(_admin), "BANK_TEST_POSTGRES is not set: these specs keep a lease in a PostgreSQL database of their own");
        var settings = new LeaseSettings(ClusterLease.LeaseName, owner, new TimeoutSettings(Interval, Ttl, TimeSpan.FromSeconds(5)), Config.Empty);
        var lease = new PostgresLease(settings, _connectionString, NoLogger.Instance);
        _leases.Add(lease);
        return lease;
    }

    private static async Task Release(PostgresLease lease)
    {
        try
        {
            await lease.Release();
        }
        catch (LeaseException)
        {
            // The database is gone already.
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
