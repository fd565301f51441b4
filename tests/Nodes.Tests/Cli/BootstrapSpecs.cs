using System.Diagnostics;
using System.Net.Http;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 18, point 1: three `bank start --discovery config` processes with the same contact points (their management
/// endpoints on loopback) and one PostgreSQL journal form one cluster by Akka.Management's cluster bootstrap, whatever
/// the order they start in, and the oldest killed with kill -9 and started again joins the running cluster rather than
/// forming its own. Needs BANK_TEST_POSTGRES; skipped with that reason elsewhere.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BootstrapSpecs(ITestOutputHelper output)
{
    private const int NodeCount = 3;

    [SkippableFact]
    public async Task Three_nodes_started_alike_form_one_cluster_when_the_lowest_contact_point_starts_last()
    {
        await using var cluster = await BootstrapCluster.StartAsync(PostgresDatabase.RequireConnectionString(), output);

        await cluster.AssertOneClusterAsync(cluster.Nodes);
        var oldest = await cluster.OldestAsync();
        // The lowest contact point forms the cluster when none is running, so it is the oldest although it started last.
        Assert.Equal(cluster.NodeAddress(0), oldest);
    }

    [SkippableFact]
    public async Task The_oldest_killed_and_started_again_with_the_same_command_joins_the_running_cluster()
    {
        await using var cluster = await BootstrapCluster.StartAsync(PostgresDatabase.RequireConnectionString(), output);
        var bank = cluster.Bank(1);
        Assert.StartsWith("Actor(Account, ", await bank.OkAsync("open", "boot1", "--balance", "150"));
        Assert.Equal("175.0", await bank.OkAsync("deposit", "boot1", "25"));
        Assert.Equal(cluster.NodeAddress(0), await cluster.OldestAsync());

        var clock = Stopwatch.StartNew();
        await cluster.Nodes[0].KillAsync();
        await cluster.Nodes[0].DisposeAsync();
        cluster.Nodes[0] = await cluster.StartNodeAsync(0);
        output.WriteLine($"the oldest, killed and started again with the same command, was up {clock.Elapsed.TotalSeconds:0.0} s after the kill");

        // One cluster of three again: a node that formed its own would see only itself, and the others would miss it.
        await cluster.AssertOneClusterAsync(cluster.Nodes);
        Assert.NotEqual(cluster.NodeAddress(0), await cluster.OldestAsync());
        Assert.Equal("175.0", await cluster.Bank(0).OkAsync("balance", "boot1"));
        Assert.Equal("175.0", await cluster.Bank(2).OkAsync("balance", "boot1"));
    }

    /// <summary>Three nodes with fixed cluster and management ports on one fresh database; disposing kills them and drops it.</summary>
    private sealed class BootstrapCluster : IAsyncDisposable
    {
        private static readonly TimeSpan AgreeLimit = TimeSpan.FromSeconds(60);

        private readonly PostgresDatabase _database;
        private readonly ITestOutputHelper _output;
        private readonly int[] _ports;
        private readonly int[] _managementPorts;

        private BootstrapCluster(PostgresDatabase database, ITestOutputHelper output)
        {
            _database = database;
            _output = output;
            _ports = [.. Enumerable.Range(0, NodeCount).Select(_ => FreePort.Next())];
            // Ascending, so that node 0 has the lowest contact point: the one that forms a new cluster.
            _managementPorts = [.. Enumerable.Range(0, NodeCount).Select(_ => FreePort.Next()).Order()];
        }

        public BankProcess[] Nodes { get; } = new BankProcess[NodeCount];

        public string NodeAddress(int i) => $"akka.tcp://bank@127.0.0.1:{_ports[i]}";

        public BankCommands Bank(int i) => new($"127.0.0.1:{_ports[i]}", Diagnostics);

        public string Diagnostics() => string.Concat(Nodes.Where(n => n is not null).Select(n => n.Tail()));

        /// <summary>
        /// Starts nodes 2 and 1 first and waits until their bootstrap endpoints answer, then node 0, whose contact point is
        /// the lowest: the first two cannot form a cluster without it, so all three come up in the one it forms.
        /// </summary>
        public static async Task<BootstrapCluster> StartAsync(string connectionString, ITestOutputHelper output)
        {
            var clock = Stopwatch.StartNew();
            var cluster = new BootstrapCluster(await PostgresDatabase.CreateAsync(connectionString), output);
            var starting = new List<Task<BankProcess>>();
            try
            {
                starting.Add(cluster.StartNodeAsync(2));
                starting.Add(cluster.StartNodeAsync(1));
                await cluster.WaitForBootstrapEndpointAsync(2);
                await cluster.WaitForBootstrapEndpointAsync(1);
                Assert.All(starting, s => Assert.False(s.IsCompleted, "a node was up before the lowest contact point started"));
                starting.Add(cluster.StartNodeAsync(0));
                var up = await Task.WhenAll(starting);
                (cluster.Nodes[2], cluster.Nodes[1], cluster.Nodes[0]) = (up[0], up[1], up[2]);
                output.WriteLine($"three nodes up by bootstrap in {clock.Elapsed.TotalSeconds:0.0} s (the lowest contact point started last)");
                return cluster;
            }
            catch
            {
                foreach (var node in starting.Where(s => s.IsCompletedSuccessfully)) await node.Result.DisposeAsync();
                await cluster._database.DisposeAsync();
                throw;
            }
        }

        /// <summary>`bank start` as every node runs it: the same contact points, its own ports.</summary>
        public Task<BankProcess> StartNodeAsync(int i) =>
            BankProcess.StartNodeAsync($"bootstrap node {i} on port {_ports[i]}",
                "start", "--discovery", "config",
                "--contact-points", string.Join(",", _managementPorts.Select(p => $"127.0.0.1:{p}")),
                "--required-contact-points", Nodes.Length.ToString(),
                "--port", _ports[i].ToString(), "--management-port", _managementPorts[i].ToString(),
                "--journal", "postgres", "--connection", _database.ConnectionString);

        /// <summary>Waits until node <paramref name="i"/>'s /bootstrap/seed-nodes answers (its process is then listening).</summary>
        private async Task WaitForBootstrapEndpointAsync(int i)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            using var limit = new CancellationTokenSource(BankProcess.StartTimeout);
            while (true)
            {
                try
                {
                    var answer = await http.GetStringAsync($"http://127.0.0.1:{_managementPorts[i]}/bootstrap/seed-nodes", limit.Token);
                    _output.WriteLine($"node {i}'s bootstrap endpoint answers: {answer}");
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !limit.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), limit.Token);
                }
            }
        }

        /// <summary>Every node's `cluster show` lists the same members, all of <paramref name="nodes"/>, each Up.</summary>
        public async Task AssertOneClusterAsync(IReadOnlyList<BankProcess> nodes)
        {
            var expected = Enumerable.Range(0, nodes.Count).Select(NodeAddress).Order(StringComparer.Ordinal).ToList();
            var views = new List<string>();
            using var limit = new CancellationTokenSource(AgreeLimit);
            while (true)
            {
                views.Clear();
                var agreed = true;
                for (var i = 0; i < nodes.Count; i++)
                {
                    var show = await Bank(i).JsonAsync("cluster", "show");
                    var members = Assert.IsType<JsonArray>(show["members"]).Select(m => m!).ToList();
                    var addresses = members.Select(m => (string)m["address"]!).Order(StringComparer.Ordinal).ToList();
                    views.Add($"node {i}: {string.Join(", ", members.Select(m => $"{m["address"]} {m["status"]}"))}");
                    agreed &= addresses.SequenceEqual(expected) && members.All(m => (string?)m["status"] == "Up");
                }

                if (agreed)
                {
                    _output.WriteLine("one cluster: " + string.Join("; ", views));
                    return;
                }

                if (limit.IsCancellationRequested)
                    Assert.Fail($"the nodes do not agree on one cluster of {string.Join(", ", expected)}: {string.Join("; ", views)}{Diagnostics()}");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }

        /// <summary>The member node 1 sees as the oldest.</summary>
        public async Task<string> OldestAsync()
        {
            var show = await Bank(1).JsonAsync("cluster", "show");
            return (string)Assert.Single(Assert.IsType<JsonArray>(show["members"]), m => (bool?)m!["oldest"] == true)!["address"]!;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                foreach (var node in Nodes.Where(n => n is not null)) await node.DisposeAsync();
            }
            finally
            {
                await _database.DisposeAsync();
            }
        }
    }
}
