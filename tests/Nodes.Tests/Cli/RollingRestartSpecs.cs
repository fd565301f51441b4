using System.Diagnostics;
using Bank.Hosting.Client;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 18 points 8 and 9: five `bank start --discovery config` processes on loopback, formed by cluster bootstrap (no
/// head) on one PostgreSQL journal, under a steady load of three clients. Every node in turn is stopped with SIGTERM,
/// started again with the same command and waited for until its /health/ready answers 200; then the oldest is killed
/// with kill -9 and started again. After every step all five nodes' `cluster show` agree on one cluster; at the end every
/// acknowledged call is in the journal exactly once and every balance is its opening plus the acknowledged deposits minus
/// the acknowledged withdrawals. It prints what docs/benchmarks.md ("Rolling restart") reports: start to ready of a lone
/// node and of a node joining, the rolling restart's duration and its slowest call. Needs BANK_TEST_POSTGRES.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RollingRestartSpecs(ITestOutputHelper output)
{
    private const int NodeCount = 5;
    private const int Clients = 3;
    private const decimal Opening = 1000m;
    private static readonly string[] Accounts = [.. Enumerable.Range(0, 6).Select(i => $"roll{i}")];
    private static readonly string[] Moves = ["deposited", "withdrawn"];

    /// <summary>Calls acknowledged before the first stop, and after the last restart, so that the load spans the restarts.</summary>
    private const int CallsAround = 20;

    [SkippableFact]
    public async Task Five_bootstrapped_nodes_restarted_in_turn_and_the_oldest_killed_under_load_stay_one_cluster_and_lose_nothing()
    {
        var connectionString = PostgresDatabase.RequireConnectionString();
        var total = Stopwatch.StartNew();
        var alone = await LoneHeadReadyAsync(connectionString);

        await using var cluster = await BootstrapCluster.StartAsync(connectionString, output, NodeCount);
        await cluster.AssertOneClusterAsync();
        await using var admin = await BankClient.ConnectAsync(cluster.ClientAddresses);
        await using var adminSession = admin.OpenSession();
        foreach (var name in Accounts) await adminSession.OpenAsync(name, new AccountOptions(Opening, 0m) { Detached = true });

        var load = new SteadyLoad(Stopwatch.StartNew(), Guid.NewGuid().ToString("N")[..8]);
        var clients = new List<BankClient>();
        var loops = new List<Task>();
        var steps = new List<string>();
        var joins = new List<TimeSpan>();
        TimeSpan rollingFrom, rollingTo, killAt;
        try
        {
            for (var c = 0; c < Clients; c++)
            {
                var client = await BankClient.ConnectAsync(cluster.ClientAddresses);
                clients.Add(client);
                var (session, seed) = (client.OpenSession(), c + 1);
                loops.Add(Task.Run(() => load.RunAsync(session, seed, Accounts, seed)));
            }

            await AcknowledgedAfterAsync(load, TimeSpan.Zero, "calls before the rolling restart", loops);

            // The rolling restart: node 0, the oldest (it formed the cluster), first.
            rollingFrom = load.Clock.Elapsed;
            for (var i = 0; i < NodeCount; i++)
            {
                var stopping = Stopwatch.StartNew();
                Assert.Equal(0, await cluster.Nodes[i].StopAsync());
                var stopped = stopping.Elapsed;
                await cluster.Nodes[i].DisposeAsync();
                var ready = await cluster.RestartNodeAsync(i);
                joins.Add(ready);
                steps.Add($"node {i}: SIGTERM to exit {stopped.TotalSeconds:0.0} s, start to ready (joining) {ready.TotalSeconds:0.0} s");
                await cluster.AssertOneClusterAsync();
            }

            rollingTo = load.Clock.Elapsed;

            // kill -9 of the oldest, and the same command again.
            var oldest = await cluster.OldestAsync();
            killAt = load.Clock.Elapsed;
            await cluster.Nodes[oldest].KillAsync();
            await cluster.Nodes[oldest].DisposeAsync();
            var rejoined = await cluster.RestartNodeAsync(oldest);
            joins.Add(rejoined);
            steps.Add($"node {oldest} (the oldest): kill -9, then start to ready (joining) {rejoined.TotalSeconds:0.0} s");
            await cluster.AssertOneClusterAsync();
            Assert.NotEqual(oldest, await cluster.OldestAsync(observer: oldest));

            await AcknowledgedAfterAsync(load, load.Clock.Elapsed, "calls after the last restart", loops);
        }
        finally
        {
            load.Stop();
            await Task.WhenAll(loops).WaitAsync(SteadyLoad.ResendLimit + TimeSpan.FromSeconds(30));
            foreach (var client in clients) await client.DisposeAsync();
        }

        var outcomes = load.Outcomes.ToList();
        var acknowledged = outcomes.Where(o => o.Acknowledged).ToList();
        var during = outcomes.Where(o => o.At < rollingTo && o.At + o.Took > rollingFrom).ToList();
        var slowest = during.MaxBy(o => o.Took)!;
        var afterKill = outcomes.Where(o => o.At + o.Took > killAt).MaxBy(o => o.Took);
        foreach (var step in steps) output.WriteLine(step);
        output.WriteLine($"figures: lone head start to ready {alone.TotalSeconds:0.0} s; five nodes formed by bootstrap ready " +
                         $"{cluster.FormedAfterLastStart.TotalSeconds:0.0} s after the last start; joining start to ready " +
                         $"{joins.Min().TotalSeconds:0.0}-{joins.Max().TotalSeconds:0.0} s (median {Median(joins).TotalSeconds:0.0} s); " +
                         $"rolling restart of {NodeCount} under load {(rollingTo - rollingFrom).TotalSeconds:0.0} s; slowest call during it " +
                         $"{slowest.Took.TotalSeconds:0.00} s ({slowest.Sends} send(s)); slowest after the kill -9 {afterKill?.Took.TotalSeconds:0.00} s; " +
                         $"{acknowledged.Count} calls acknowledged of {outcomes.Count}, {outcomes.Count(o => o.Sends > 1)} sent again under their id; " +
                         $"total {total.Elapsed.TotalSeconds:0} s");

        Assert.True(acknowledged.Count == outcomes.Count,
            "calls without a definite acknowledgement: " + string.Join("; ", outcomes.Where(o => !o.Acknowledged).Take(10).Select(o => $"{o.Op}: {o.Detail}")));
        var counts = await JournalRequestIds.CountAsync(cluster.ConnectionString, Moves, acknowledged.Select(o => o.Op.Id).ToArray());
        var notOnce = counts.Where(c => c.Value != 1).ToList();
        Assert.True(notOnce.Count == 0, "not in the journal exactly once: " + string.Join(", ", notOnce.Take(20).Select(c => $"{c.Key} x{c.Value}")));
        Assert.Equal((long)acknowledged.Count, await JournalRequestIds.TotalAsync(cluster.ConnectionString, Moves));
        foreach (var name in Accounts)
        {
            var expected = Opening + acknowledged.Where(o => o.Op.Account == name).Sum(o => o.Op.Deposit ? o.Op.Amount : -o.Op.Amount);
            Assert.Equal(expected, await adminSession.BalanceAsync(name));
        }
    }

    /// <summary>A lone `bank start --head` on an empty database of its own: from its start to /health/ready 200.</summary>
    private async Task<TimeSpan> LoneHeadReadyAsync(string connectionString)
    {
        await using var database = await PostgresDatabase.CreateAsync(connectionString);
        var (port, http) = (FreePort.Next(), FreePort.Next());
        var clock = Stopwatch.StartNew();
        await using var head = await BankProcess.StartNodeAsync($"lone head on port {port}", "start", "--head", "--port", port.ToString(),
            "--http-port", http.ToString(), "--journal", "postgres", "--connection", database.ConnectionString);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await BootstrapCluster.WaitReadyAsync(probe, http, head.Tail);
        var ready = clock.Elapsed;
        output.WriteLine($"a lone head: start to ready {ready.TotalSeconds:0.0} s");
        Assert.Equal(0, await head.StopAsync());
        return ready;
    }

    /// <summary>Waits until <see cref="CallsAround"/> calls first sent after <paramref name="after"/> are acknowledged.</summary>
    private static Task AcknowledgedAfterAsync(SteadyLoad load, TimeSpan after, string what, IReadOnlyList<Task> loops) =>
        Eventually.HoldsAsync(() =>
        {
            // A client loop that ended on its own has failed: say how, rather than wait for calls that never come.
            if (loops.FirstOrDefault(l => l.IsFaulted) is { } failed) throw failed.Exception!;
            return load.Outcomes.Count(o => o.Acknowledged && o.At >= after) >= CallsAround;
        }, what, TimeSpan.FromSeconds(60));

    private static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2);
}
