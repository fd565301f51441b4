using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Lease;
using Npgsql;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Nodes on one PostgreSQL journal: the node that forms the cluster takes its lease, a node that joins takes nothing, a
/// node that would form a second cluster is refused naming the holder, the next oldest takes the lease over when the
/// oldest leaves, and the last member to leave releases it; a cluster whose lease another cluster took stops, oldest
/// first, naming the new owner. Needs BANK_TEST_POSTGRES (skipped with that reason elsewhere).
/// </summary>
public sealed class ClusterLeaseSpecs : IAsyncLifetime
{
    private readonly List<RunningNode> _running = [];
    private string? _admin;
    private string _database = "";
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _admin = Environment.GetEnvironmentVariable("BANK_TEST_POSTGRES");
        if (string.IsNullOrEmpty(_admin)) return;
        _database = "bank_test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(_admin, $"CREATE DATABASE \"{_database}\"");
        _connectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = _database, Pooling = true }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _running) await node.DisposeAsync();
        if (string.IsNullOrEmpty(_admin)) return;
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
    }

    [SkippableFact]
    public async Task A_second_cluster_is_refused_and_the_lease_passes_to_the_next_oldest_then_is_released_by_the_last()
    {
        Skip.If(string.IsNullOrEmpty(_admin), "BANK_TEST_POSTGRES is not set: these specs run nodes on a PostgreSQL journal of their own");
        var oldest = await StartAsync([]);
        var worker = await StartAsync([InProcessCluster.HostPortOf(oldest)]);
        var first = await HolderAsync();
        Assert.Equal(OwnerOf(oldest), first?.Owner);

        var refused = await Assert.ThrowsAsync<BankException>(() => StartAsync([]));
        Assert.Equal("JournalOwned", refused.Code);
        Assert.Contains($"held by {Cluster.Get(oldest.System).SelfAddress} since ", refused.Message);
        Assert.Equal(OwnerOf(oldest), (await HolderAsync())?.Owner);

        await LeaveAsync(oldest);
        var taken = await Eventually.ReadsAsync(HolderAsync, holder => holder?.Owner == OwnerOf(worker),
            "the next oldest to take the lease over", TimeSpan.FromSeconds(30), show: holder => holder?.Owner ?? "none");
        Assert.Equal(first!.Since, taken!.Since);

        await LeaveAsync(worker);
        Assert.Null(await HolderAsync());
    }

    [SkippableFact]
    public async Task A_cluster_whose_lease_another_cluster_took_shuts_down_oldest_first_naming_the_new_owner()
    {
        Skip.If(string.IsNullOrEmpty(_admin), "BANK_TEST_POSTGRES is not set: these specs run nodes on a PostgreSQL journal of their own");
        var node = await StartAsync([]);
        var next = await StartAsync([InProcessCluster.HostPortOf(node)]);
        Assert.Equal(OwnerOf(node), (await HolderAsync())?.Owner);
        const string other = "akka.tcp://bank@10.9.9.9:4053";

        // Another cluster's node, as its lease row says: renewed by it for the next hour.
        await ExecuteAsync(_connectionString,
            $"UPDATE {PostgresLease.Table} SET owner = '{other}#42', since = now(), expires_at = now() + interval '1 hour' WHERE name = '{ClusterLease.LeaseName}'");

        // The oldest's next renewal (every second here) finds it taken, and the node stops writing the journal.
        await node.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        var reason = Assert.IsType<JournalLeaseLost>(CoordinatedShutdown.Get(node.System).ShutdownReason);
        Assert.StartsWith($"another cluster took this journal's lease: it is held by {other} since ", reason.Message);
        Assert.DoesNotContain('\n', reason.Message);
        // The next oldest, now the oldest, finds the lease held by a stranger too, and stops as well.
        await next.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.IsType<JournalLeaseLost>(CoordinatedShutdown.Get(next.System).ShutdownReason);
        Assert.Equal($"{other}#42", (await HolderAsync())?.Owner);
    }

    private async Task<RunningNode> StartAsync(IReadOnlyList<string> seeds)
    {
        var options = new BankNodeOptions { Port = 0, Seeds = seeds, Persistence = BankPersistenceOptions.Postgres(_connectionString) };
        var node = await RunningNode.StartAsync((builder, _) => builder
            .WithBankNode(options)
            .AddHocon("bank.lease { heartbeat-timeout = 6s, heartbeat-interval = 1s }", HoconAddMode.Prepend));
        _running.Add(node);
        return node;
    }

    private async Task LeaveAsync(RunningNode node)
    {
        _running.Remove(node);
        await node.DisposeAsync();
    }

    private static string OwnerOf(RunningNode node) => ClusterLease.OwnerOf(Cluster.Get(node.System).SelfUniqueAddress);

    private async Task<LeaseHolder?> HolderAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT owner, since FROM {PostgresLease.Table} WHERE name = '{ClusterLease.LeaseName}'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new LeaseHolder(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), TimeSpan.Zero) : null;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
