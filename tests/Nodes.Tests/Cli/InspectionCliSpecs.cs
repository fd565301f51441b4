using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// The inspection commands' output on a two-node cluster of real processes (a head and a worker on PostgreSQL), as a
/// new user reads it to learn what runs where and whether it is healthy (issue 7). Needs BANK_TEST_POSTGRES.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class InspectionCliSpecs(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Cluster_show_shards_and_hierarchy_cover_both_nodes_and_cluster_leave_makes_the_worker_go()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var headPort = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"head on port {headPort}",
            "start", "--head", "--port", headPort.ToString(), "--journal", "postgres", "--connection", database.ConnectionString, "--no-dashboard");
        var workerPort = FreePort.Next();
        await using var worker = await BankProcess.StartNodeAsync($"worker on port {workerPort}",
            "start", "--address", head.Address, "--port", workerPort.ToString(), "--journal", "postgres", "--connection", database.ConnectionString);
        var bank = new BankCommands(head.Address, () => head.Tail() + worker.Tail());
        var (headNode, workerNode) = ($"akka.tcp://bank@{head.Address}", $"akka.tcp://bank@{worker.Address}");
        await BankCommands.LimitedAsync(Enumerable.Range(0, 8), 4, i => bank.OkAsync("open", $"insp{i}", "--balance", "1"));

        var show = await bank.RunAsync("cluster", "show");
        BankCommands.AssertOk(show, ["cluster", "show"]);
        output.WriteLine(show.Stdout);
        Assert.Contains(show.Lines, l => l.StartsWith(headNode, StringComparison.Ordinal) && l.Contains(" Up ") && l.Contains(" yes "));
        Assert.Contains(show.Lines, l => l.StartsWith(workerNode, StringComparison.Ordinal) && l.Contains(" Up ") && l.Contains(" yes "));
        // The CLI's ClusterClient talks to whichever node's receptionist answered it first: the head or the worker.
        Assert.Contains(show.Lines[^1], new[] { headNode, workerNode }.Select(node => $"2 member(s), 2 up, 0 unreachable (as seen by {node})"));

        var shards = await bank.RunAsync("shards", "--type", "account");
        BankCommands.AssertOk(shards, ["shards"]);
        output.WriteLine(shards.Stdout);
        var counts = shards.Lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(c => c[0], c => int.Parse(c[3]));
        Assert.Equal(new[] { headNode, workerNode }.Order(StringComparer.Ordinal), counts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(8, counts.Values.Sum());

        var onWorker = await bank.RunAsync("actor", "hierarchy", "/user", "--depth", "1", "--node", worker.Address);
        BankCommands.AssertOk(onWorker, ["actor", "hierarchy"]);
        Assert.Equal($"{workerNode}/user", onWorker.Lines[0]);
        Assert.Contains("├─ bank-gateway", onWorker.Lines);

        var leave = await bank.JsonAsync("cluster", "leave", worker.Address);
        Assert.Equal(workerNode, (string?)Assert.Single(Assert.IsType<JsonArray>(leave["members"])));
        var code = (await worker.WaitForExitAsync(TimeSpan.FromSeconds(30))).ExitCode;
        output.WriteLine($"the worker exited {code} after `bank cluster leave`");
        Assert.Equal(0, code);
        // The worker exits once it sees itself removed; the head may learn of the removal a gossip round later.
        var after = await bank.JsonWhenAsync(show => show["members"] is JsonArray { Count: 1 }, "cluster", "show");
        Assert.Equal(headNode, (string?)Assert.Single(Assert.IsType<JsonArray>(after["members"]))!["address"]);
    }
}
