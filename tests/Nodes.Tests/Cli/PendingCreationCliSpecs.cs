using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Akka.Cluster;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 5: an open that no node can hold, as the CLI shows it. `bank start` has no option for
/// <c>bank.resources.pending-timeout</c> (30 s in hocon/bank.hocon), so the node runs in this process, composed as
/// `bank start` composes it, with a short timeout; the `bank` commands are real client processes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PendingCreationCliSpecs : IAsyncLifetime
{
    /// <summary>Long enough for two CLI commands to see the opens waiting, short enough for a test.</summary>
    private static readonly TimeSpan PendingTimeout = TimeSpan.FromSeconds(12);

    private InProcessCluster _node = null!;
    private BankCommands _bank = null!;

    private string Node => InProcessCluster.AddressOf(_node.Seed);

    public async Task InitializeAsync()
    {
        _node = await InProcessCluster.StartAsync(["cpu=2,gpu=1,memory=4GiB"], $"bank.resources.pending-timeout = {PendingTimeout.TotalSeconds}s");
        _bank = new BankCommands(InProcessCluster.HostPortOf(_node.Seed));
    }

    [Fact]
    public async Task An_open_no_node_can_hold_is_PENDING_CREATION_with_no_node_then_fails_with_CREATION_FAILED()
    {
        await using var text = BankProcess.Start("open", "big", "--balance", "1", "--num-gpus", "4", "--address", _bank.Address);
        await using var json = BankProcess.Start("open", "huge", "--balance", "1", "--num-cpus", "3", "--resources", "tpu=1", "--json", "--address", _bank.Address);

        // Both wait for a node: seen in this process, so that the CLI commands below have most of the timeout to run.
        await using (var session = _node.NewSession())
            await Eventually.HoldsAsync(async () => (await session.ListAsync()).Count(a => a.State == ActorState.PendingCreation) == 2,
                "both opens to wait for a node (PENDING_CREATION)", interval: TimeSpan.FromMilliseconds(50));

        var listJson = _bank.JsonAsync("list");
        var listText = _bank.RunAsync("list");
        var status = await _bank.JsonAsync("status");

        var big = Assert.Single(Assert.IsType<JsonArray>((await listJson)["actors"]), a => (string?)a!["name"] == "big")!;
        Assert.Equal(("PENDING_CREATION", ""), ((string?)big["state"], (string?)big["node"]));
        Assert.Equal([("cpu", 1m), ("gpu", 4m)], ResourceCliSpecs.Amounts(big["resources"]));
        var rows = await listText;
        BankCommands.AssertOk(rows, ["list"]);
        Assert.Matches(@"^big\s+PENDING_CREATION\s+-\s+0\s+cpu=1,gpu=4\s+yes\s+-\s+-\s+[0-9a-f]{32}$",
            Assert.Single(rows.Lines, l => l.StartsWith("big ", StringComparison.Ordinal)));
        Assert.Equal(2, (int)status["pending"]!);
        var node = Assert.Single(Assert.IsType<JsonArray>(status["nodes"]))!;
        Assert.Equal(0, (int)node["placed"]!);
        Assert.Equal(0m, node["resources"]!["used"]!["gpu"]!.GetValue<decimal>());

        // After the pending timeout: one line naming the request and the largest free capacity, exit 1.
        var failed = await text.WaitForExitAsync(BankCommands.Timeout);
        var error = Regex.Match(BankCommands.AssertOneLineError(failed, 1, "an open no node can hold"),
            $@"^error: no node has the resources for actor 'big' \(num_cpus=1, num_gpus=4\) after ([0-9]+(\.[0-9])?) s: " +
            $"the largest free capacity is cpu=2 on {Regex.Escape(Node)}, gpu=1 on {Regex.Escape(Node)}$");
        Assert.True(error.Success, $"unexpected error line: {failed.Stderr}");
        Assert.InRange(decimal.Parse(error.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), (decimal)PendingTimeout.TotalSeconds, 60m);
        var (kind, message) = BankCommands.AssertJsonError(await json.WaitForExitAsync(BankCommands.Timeout), 1, "the same with --json");
        Assert.Equal("ActorDied", kind);
        Assert.StartsWith("no node has the resources for actor 'huge' (num_cpus=3, tpu=1) after ", message);

        var dead = Assert.IsType<JsonArray>((await _bank.JsonAsync("list"))["actors"]).Where(a => (string?)a!["state"] == "DEAD").ToList();
        Assert.Equal([("big", "CREATION_FAILED"), ("huge", "CREATION_FAILED")],
            dead.Select(a => ((string)a!["name"]!, (string)a["death_cause"]!)).Order());
        Assert.Equal(0, (int)(await _bank.JsonAsync("status"))["pending"]!);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();
}
