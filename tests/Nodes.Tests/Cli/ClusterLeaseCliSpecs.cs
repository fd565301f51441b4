using System.Diagnostics;
using Bank.Hosting.Lease;
using Npgsql;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 18 point 2: two clusters never write one journal. A second `bank start --head` on the PostgreSQL journal of a
/// running head is refused in one line naming the holder (exit 1); once the head is killed with kill -9 its lease
/// expires (here after 12 s, set through BANK__lease__heartbeat-timeout) and the same command starts a new head; a head
/// stopped gracefully gives the lease up, so the next one starts at once; a head whose lease another cluster takes
/// stops, in one line naming the new owner, exit 1. Needs BANK_TEST_POSTGRES.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterLeaseCliSpecs
{
    private static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(12);

    private static readonly Dictionary<string, string?> ShortLease = new()
    {
        ["BANK__lease__heartbeat-timeout"] = $"{LeaseTimeout.TotalSeconds}s",
        ["BANK__lease__heartbeat-interval"] = "2s",
    };

    [SkippableFact]
    public async Task A_bootstrapped_cluster_on_a_running_clusters_journal_is_refused_before_it_forms()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var port = FreePort.Next();
        await using var first = await BankProcess.StartNodeAsync($"head on port {port}", ShortLease, Head(port, database));

        // One contact point, its own: bootstrap decides to form a new cluster, and the lease says no.
        var management = FreePort.Next();
        var refused = await BankProcess.RunAsync(TimeSpan.FromSeconds(90), ShortLease, "start", "--discovery", "config",
            "--contact-points", $"127.0.0.1:{management}", "--required-contact-points", "1", "--management-port", management.ToString(),
            "--port", FreePort.Next().ToString(), "--http-port", "0", "--journal", "postgres", "--connection", database.ConnectionString);
        Assert.True(refused.ExitCode == 1, $"a bootstrapped node on the same journal exited {refused.ExitCode}\n{refused.Stdout}\n{refused.Stderr}");
        Assert.Contains($"held by akka.tcp://bank@127.0.0.1:{port} since ", Assert.Single(refused.ErrorLines, l => l.StartsWith("error: ", StringComparison.Ordinal)));
        Assert.DoesNotContain("node up at", refused.Stdout);
        Assert.StartsWith($"akka.tcp://bank@127.0.0.1:{port}#", await HolderAsync(database));
    }

    [SkippableFact]
    public async Task A_second_cluster_on_a_running_clusters_journal_is_refused_and_starts_once_the_killed_owners_lease_expired()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var port = FreePort.Next();
        var first = await BankProcess.StartNodeAsync($"head on port {port}", ShortLease, Head(port, database));
        await using var _ = first;

        var secondPort = FreePort.Next();
        var refused = await BankProcess.RunAsync(TimeSpan.FromSeconds(90), ShortLease, Head(secondPort, database));
        Assert.True(refused.ExitCode == 1, $"a second head on the same journal exited {refused.ExitCode}\n{refused.Stdout}\n{refused.Stderr}");
        var line = Assert.Single(refused.ErrorLines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains($"held by akka.tcp://bank@127.0.0.1:{port} since ", line);
        Assert.Matches(@"expires in \d+ s unless renewed", line);
        Assert.DoesNotContain("node up at", refused.Stdout);
        Assert.StartsWith($"akka.tcp://bank@127.0.0.1:{port}#", await HolderAsync(database));

        await first.KillAsync();
        var killed = Stopwatch.StartNew();
        // The same command, again and again, until the dead head's lease has expired: not before, not much after.
        BankProcess? next = null;
        var attempts = 0;
        while (next is null)
        {
            attempts++;
            Assert.True(killed.Elapsed < LeaseTimeout + TimeSpan.FromSeconds(60), $"no head started within {killed.Elapsed} of the kill");
            try
            {
                next = await BankProcess.StartNodeAsync($"head {attempts} on port {port}", ShortLease, Head(port, database));
            }
            catch (InvalidOperationException notUp) when (notUp.Message.Contains("held by", StringComparison.Ordinal))
            {
                Assert.True(killed.Elapsed < LeaseTimeout + TimeSpan.FromSeconds(5), $"still refused {killed.Elapsed} after the kill: {notUp.Message}");
            }
        }

        await using var __ = next;
        Assert.True(killed.Elapsed >= LeaseTimeout - TimeSpan.FromSeconds(3), $"a new head started {killed.Elapsed} after the kill, before the lease expired");

        // A graceful stop gives the lease up: the same command starts again without waiting for it to expire.
        Assert.Equal(0, await next.StopAsync());
        Assert.Null(await HolderAsync(database));
        await using var again = await BankProcess.StartNodeAsync($"head again on port {port}", ShortLease, Head(port, database));
    }

    [SkippableFact]
    public async Task A_head_whose_lease_another_cluster_took_stops_with_one_error_line_naming_the_new_owner_and_exit_1()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var port = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"head on port {port}", ShortLease, Head(port, database));
        const string other = "akka.tcp://bank@10.9.9.9:4053";

        // Another cluster's node, as its lease row says, renewed by it for the next hour.
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var taken = new NpgsqlCommand(
                $"UPDATE {PostgresLease.Table} SET owner = '{other}#42', since = now(), expires_at = now() + interval '1 hour' " +
                $"WHERE name = '{ClusterLease.LeaseName}'", connection);
            Assert.Equal(1, await taken.ExecuteNonQueryAsync());
        }

        var stopped = await head.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(stopped.ExitCode == 1, $"the head exited {stopped.ExitCode}\n{stopped.Stdout}\n{stopped.Stderr}");
        var line = Assert.Single(stopped.ErrorLines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.StartsWith($"error: another cluster took this journal's lease: it is held by {other} since ", line);
        Assert.DoesNotContain("   at ", stopped.Stderr);
    }

    private static async Task<string?> HolderAsync(PostgresDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var owner = new NpgsqlCommand($"SELECT owner FROM {PostgresLease.Table} WHERE name = '{ClusterLease.LeaseName}'", connection);
        return await owner.ExecuteScalarAsync() as string;
    }

    private static string[] Head(int port, PostgresDatabase database) =>
        ["start", "--head", "--port", port.ToString(), "--no-dashboard", "--journal", "postgres", "--connection", database.ConnectionString];
}
