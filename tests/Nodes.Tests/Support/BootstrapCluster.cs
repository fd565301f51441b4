using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// Nodes started as the README's "Running a cluster" starts them: `bank start --discovery config` with the same contact
/// points, each with its own cluster, management and HTTP port, on one fresh PostgreSQL database. A node can be stopped
/// (SIGTERM), killed (kill -9) and started again with the same command. Disposing kills them all and drops the database.
/// </summary>
public sealed class BootstrapCluster : IAsyncDisposable
{
    private static readonly TimeSpan AgreeLimit = TimeSpan.FromSeconds(60);

    /// <summary>How long a node may take from "node up at" to /health/ready 200 on a busy machine.</summary>
    public static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(60);

    private readonly PostgresDatabase _database;
    private readonly ITestOutputHelper _output;
    private readonly int[] _ports;
    private readonly int[] _managementPorts;
    private readonly int[] _httpPorts;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private BootstrapCluster(PostgresDatabase database, ITestOutputHelper output, int nodeCount)
    {
        _database = database;
        _output = output;
        _ports = [.. Enumerable.Range(0, nodeCount).Select(_ => FreePort.Next())];
        // Ascending, so that node 0 has the lowest contact point: the one that forms a new cluster.
        _managementPorts = [.. Enumerable.Range(0, nodeCount).Select(_ => FreePort.Next()).Order()];
        _httpPorts = [.. Enumerable.Range(0, nodeCount).Select(_ => FreePort.Next())];
        Nodes = new BankProcess[nodeCount];
    }

    public BankProcess[] Nodes { get; }

    /// <summary>The journal's database, for reading it in SQL.</summary>
    public string ConnectionString => _database.ConnectionString;

    public string NodeAddress(int i) => $"akka.tcp://bank@127.0.0.1:{_ports[i]}";

    /// <summary>Every node's HOST:PORT, as clients name them.</summary>
    public IReadOnlyList<string> ClientAddresses => [.. _ports.Select(p => $"127.0.0.1:{p}")];

    public BankCommands Bank(int i) => new($"127.0.0.1:{_ports[i]}", Diagnostics);

    public string Diagnostics() => string.Concat(Nodes.Where(n => n is not null).Select(n => n.Tail()));

    /// <summary>
    /// Starts every node but node 0 and waits until their bootstrap endpoints answer, then node 0, whose contact point is
    /// the lowest: the others cannot form a cluster without it, so all come up in the one it forms; then waits until
    /// every node's /health/ready answers 200 on its own HTTP port.
    /// </summary>
    public static async Task<BootstrapCluster> StartAsync(string connectionString, ITestOutputHelper output, int nodeCount)
    {
        var clock = Stopwatch.StartNew();
        var cluster = new BootstrapCluster(await PostgresDatabase.CreateAsync(connectionString), output, nodeCount);
        var starting = new List<(int Node, Task<BankProcess> Up)>();
        try
        {
            for (var i = nodeCount - 1; i > 0; i--) starting.Add((i, cluster.StartNodeAsync(i)));
            for (var i = nodeCount - 1; i > 0; i--) await cluster.WaitForBootstrapEndpointAsync(i);
            Assert.All(starting, s => Assert.False(s.Up.IsCompleted, "a node was up before the lowest contact point started"));
            var lastStarted = clock.Elapsed;
            starting.Add((0, cluster.StartNodeAsync(0)));
            foreach (var (node, up) in starting) cluster.Nodes[node] = await up;
            for (var i = 0; i < nodeCount; i++) await cluster.WaitReadyAsync(i);
            cluster.FormedAfterLastStart = clock.Elapsed - lastStarted;
            output.WriteLine($"{nodeCount} nodes up by bootstrap in {clock.Elapsed.TotalSeconds:0.0} s, each ready on its own HTTP port " +
                             $"{cluster.FormedAfterLastStart.TotalSeconds:0.0} s after the lowest contact point started (last)");
            return cluster;
        }
        catch
        {
            foreach (var (_, node) in starting.Where(s => s.Up.IsCompletedSuccessfully)) await node.Result.DisposeAsync();
            await cluster._database.DisposeAsync();
            throw;
        }
    }

    /// <summary>From the start of the lowest contact point, the last one started, until every node answered ready.</summary>
    public TimeSpan FormedAfterLastStart { get; private set; }

    /// <summary>`bank start` as every node runs it: the same contact points, its own ports.</summary>
    public Task<BankProcess> StartNodeAsync(int i) =>
        BankProcess.StartNodeAsync($"bootstrap node {i} on port {_ports[i]}",
            "start", "--discovery", "config",
            "--contact-points", string.Join(",", _managementPorts.Select(p => $"127.0.0.1:{p}")),
            "--required-contact-points", Nodes.Length.ToString(),
            "--port", _ports[i].ToString(), "--management-port", _managementPorts[i].ToString(), "--http-port", _httpPorts[i].ToString(),
            "--journal", "postgres", "--connection", _database.ConnectionString);

    /// <summary>Starts node <paramref name="i"/> again with its command and returns how long it took to answer ready.</summary>
    public async Task<TimeSpan> RestartNodeAsync(int i)
    {
        var clock = Stopwatch.StartNew();
        Nodes[i] = await StartNodeAsync(i);
        await WaitReadyAsync(i);
        return clock.Elapsed;
    }

    /// <summary>Waits until node <paramref name="i"/>'s /health/ready answers 200 on its own HTTP port.</summary>
    public Task WaitReadyAsync(int i) => WaitReadyAsync(_http, _httpPorts[i], Diagnostics);

    /// <summary>Waits until /health/ready on <paramref name="httpPort"/> of loopback answers 200, within <see cref="ReadyLimit"/>.</summary>
    public static async Task WaitReadyAsync(HttpClient http, int httpPort, Func<string> diagnostics)
    {
        var url = $"http://127.0.0.1:{httpPort}/health/ready";
        var last = "no answer";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReadyLimit)
        {
            try
            {
                using var answer = await http.GetAsync(url);
                if (answer.StatusCode == HttpStatusCode.OK) return;
                last = $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        Assert.Fail($"{url} did not answer 200 within {ReadyLimit.TotalSeconds} s; last: {last}{diagnostics()}");
    }

    /// <summary>Waits until node <paramref name="i"/>'s /bootstrap/seed-nodes answers (its process is then listening).</summary>
    private async Task WaitForBootstrapEndpointAsync(int i)
    {
        using var limit = new CancellationTokenSource(BankProcess.StartTimeout);
        while (true)
        {
            try
            {
                var answer = await _http.GetStringAsync($"http://127.0.0.1:{_managementPorts[i]}/bootstrap/seed-nodes", limit.Token);
                _output.WriteLine($"node {i}'s bootstrap endpoint answers: {answer}");
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !limit.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), limit.Token);
            }
        }
    }

    /// <summary>Every node's `cluster show` lists the same members, all of <see cref="Nodes"/>, each Up.</summary>
    public async Task AssertOneClusterAsync()
    {
        var expected = Enumerable.Range(0, Nodes.Length).Select(NodeAddress).Order(StringComparer.Ordinal).ToList();
        using var limit = new CancellationTokenSource(AgreeLimit);
        while (true)
        {
            var views = await BankCommands.LimitedAsync(Enumerable.Range(0, Nodes.Length), 3, async i =>
            {
                var show = await Bank(i).JsonAsync("cluster", "show");
                var members = Assert.IsType<JsonArray>(show["members"]).Select(m => m!).ToList();
                var addresses = members.Select(m => (string)m["address"]!).Order(StringComparer.Ordinal).ToList();
                var agrees = addresses.SequenceEqual(expected) && members.All(m => (string?)m["status"] == "Up");
                return (Agrees: agrees, View: $"node {i}: {string.Join(", ", members.Select(m => $"{m["address"]} {m["status"]}"))}");
            });

            if (views.All(v => v.Agrees))
            {
                _output.WriteLine($"one cluster of {Nodes.Length}: every node's `cluster show` lists the same {Nodes.Length} members, all Up");
                return;
            }

            if (limit.IsCancellationRequested)
                Assert.Fail($"the nodes do not agree on one cluster of {string.Join(", ", expected)}: " +
                            $"{string.Join("; ", views.Select(v => v.View))}{Diagnostics()}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>The index of the member node <paramref name="observer"/> sees as the oldest.</summary>
    public async Task<int> OldestAsync(int observer = 1)
    {
        var show = await Bank(observer).JsonAsync("cluster", "show");
        var oldest = (string)Assert.Single(Assert.IsType<JsonArray>(show["members"]), m => (bool?)m!["oldest"] == true)!["address"]!;
        return Enumerable.Range(0, Nodes.Length).Single(i => NodeAddress(i) == oldest);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
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
