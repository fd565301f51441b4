using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>A head that advertises fixed resources, whatever the machine has, so that usage is the same on every run.</summary>
public sealed class ResourceHeadFixture() : HeadProcessFixture("--resources", Advertised, "--no-dashboard")
{
    public const string Advertised = "cpu=4,gpu=2,memory=8GiB,accelerator_x=2";
}

/// <summary>
/// Issue 5: Ray's num_cpus, num_gpus, memory and custom resources through `bank open`, and what `bank list` and
/// `bank status` then say, as text and as JSON, against a real head process.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ResourceCliSpecs(ResourceHeadFixture fixture) : IClassFixture<ResourceHeadFixture>
{
    private const decimal MiB = 1024m * 1024;
    private const decimal GiB = 1024m * MiB;

    private readonly BankCommands _bank = new(fixture.Bank.Address, () => fixture.Head.Tail());

    private string Node => $"akka.tcp://bank@{fixture.Head.Address}";

    [Fact]
    public async Task Open_with_resources_shows_them_and_status_counts_them_as_used_until_the_actors_are_killed()
    {
        var trainerRun = _bank.RunAsync("open", "trainer", "--balance", "10", "--num-gpus", "2", "--memory", "500MiB", "--resources", "accelerator_x=1");
        var scorerRun = _bank.JsonAsync("open", "scorer", "--balance", "5", "--num-cpus", "0.5", "--memory", "1GiB");
        var ledgerRun = _bank.JsonAsync("open", "ledger", "--balance", "1");

        // Text: Ray's handle, then where it runs and what it holds (num_cpus=1 since it asked for other resources).
        var trainer = await trainerRun;
        BankCommands.AssertOk(trainer, ["open", "trainer"], () => fixture.Head.Tail());
        Assert.Equal(2, trainer.Lines.Length);
        Assert.Matches("^Actor\\(Account, [0-9a-f]{32}\\)$", trainer.Lines[0]);
        Assert.Equal($"ALIVE on {Node}, holding num_cpus=1, num_gpus=2, memory=500MiB, accelerator_x=1", trainer.Lines[1]);
        var scorer = await scorerRun;
        Assert.Equal(("ALIVE", Node), ((string?)scorer["state"], (string?)scorer["node"]));
        Assert.Equal([("cpu", 0.5m), ("memory", GiB)], Amounts(scorer["resources"]));
        var ledger = await ledgerRun;
        Assert.Empty(Amounts(ledger["resources"]));

        // List: resources as JSON numbers, memory in bytes; `{}` and "-" for an actor that asked for none.
        // Balances come from the state store, which shows the opens once it has taken them in (rows never go back).
        var actors = Assert.IsType<JsonArray>((await _bank.ListWhenStoredAsync(("trainer", 10m), ("scorer", 5m), ("ledger", 1m)))["actors"]);
        var listText = _bank.RunAsync("list");
        Assert.Equal([("accelerator_x", 1m), ("cpu", 1m), ("gpu", 2m), ("memory", 500 * MiB)],
            Amounts(Assert.Single(actors, a => (string?)a!["name"] == "trainer")!["resources"]));
        Assert.Equal([("cpu", 0.5m), ("memory", GiB)], Amounts(Assert.Single(actors, a => (string?)a!["name"] == "scorer")!["resources"]));
        Assert.Empty(Amounts(Assert.Single(actors, a => (string?)a!["name"] == "ledger")!["resources"]));
        var text = await listText;
        BankCommands.AssertOk(text, ["list"]);
        Assert.Matches(@"^NAME\s+STATE\s+NODE\s+RESTARTS\s+RESOURCES\s+DETACHED\s+BALANCE\s+DEATH CAUSE\s+ID$", text.Lines[0]);
        Assert.Matches($@"^trainer\s+ALIVE\s+{Regex.Escape(Node)}\s+0\s+cpu=1,gpu=2,memory=500MiB,accelerator_x=1\s+yes\s+10\.0\s+-\s+[0-9a-f]{{32}}$",
            Row(text, "trainer"));
        Assert.Matches($@"^scorer\s+ALIVE\s+{Regex.Escape(Node)}\s+0\s+cpu=0\.5,memory=1GiB\s+yes\s+5\.0\s+-\s+[0-9a-f]{{32}}$", Row(text, "scorer"));
        Assert.Matches($@"^ledger\s+ALIVE\s+{Regex.Escape(Node)}\s+0\s+-\s+yes\s+1\.0\s+-\s+[0-9a-f]{{32}}$", Row(text, "ledger"));

        // Status: used is exactly what the two placed actors hold; the plain account holds nothing.
        var statusText = _bank.RunAsync("status");
        var node = StatusNode(await _bank.JsonAsync("status"), pending: 0, placed: 2);
        Assert.Equal([("accelerator_x", 2m), ("cpu", 4m), ("gpu", 2m), ("memory", 8 * GiB)], Amounts(node["resources"]!["total"]));
        Assert.Equal([("accelerator_x", 1m), ("cpu", 1.5m), ("gpu", 2m), ("memory", (500 + 1024) * MiB)], Amounts(node["resources"]!["used"]));
        Assert.Equal([("accelerator_x", 1m), ("cpu", 2.5m), ("gpu", 0m), ("memory", (8192 - 500 - 1024) * MiB)], Amounts(node["resources"]!["free"]));
        var status = await statusText;
        BankCommands.AssertOk(status, ["status"]);
        Assert.Equal([
            $"Node {Node}  roles: cpu, gpu  actors: {(int)node["actors"]!}  placed: 2",
            "  cpu            1.5/4 used, 2.5 free",
            "  gpu            2/2 used, 0 free",
            "  memory         1.5GiB/8GiB used, 6.5GiB free",
            "  accelerator_x  1/2 used, 1 free",
        ], status.Lines[..^1]);
        Assert.StartsWith($"1 node(s), {(int)node["actors"]!} actor(s), 2 placed with resources, 0 pending ", status.Lines[^1]);

        // A kill releases what the actor held: nothing is used, and the GPUs can be held again at once.
        var killed = await Task.WhenAll(_bank.OkAsync("kill", "trainer"), _bank.OkAsync("kill", "scorer"));
        Assert.EndsWith("; what it held is released (num_cpus=1, num_gpus=2, memory=500MiB, accelerator_x=1)", killed[0]);
        var released = StatusNode(await _bank.JsonAsync("status"), pending: 0, placed: 0);
        Assert.Equal([("accelerator_x", 0m), ("cpu", 0m), ("gpu", 0m), ("memory", 0m)], Amounts(released["resources"]!["used"]));
        Assert.Equal(Amounts(released["resources"]!["total"]), Amounts(released["resources"]!["free"]));

        var again = await _bank.JsonAsync("open", "trainer", "--balance", "1", "--num-gpus", "2");
        Assert.Equal([("cpu", 1m), ("gpu", 2m)], Amounts(again["resources"]));
        Assert.Equal(2m, Amounts(StatusNode(await _bank.JsonAsync("status"), pending: 0, placed: 1)["resources"]!["used"]).Single(a => a.Name == "gpu").Amount);
        await _bank.OkAsync("kill", "trainer");
    }

    [Fact]
    public async Task Malformed_resource_options_give_one_line_and_exit_2_without_a_stack_trace()
    {
        (string[] Args, string Error)[] cases =
        [
            (["--num-cpus", "two"], "error: --num-cpus must be a number from 0 with at most 4 decimal places (e.g. 1 or 0.5), not 'two'"),
            (["--num-cpus", "0.00001"], "error: --num-cpus must be a number from 0 with at most 4 decimal places (e.g. 1 or 0.5), not '0.00001'"),
            (["--num-gpus", "-1"], "error: --num-gpus must be a number from 0 with at most 4 decimal places (e.g. 1 or 0.5), not '-1'"),
            (["--num-gpus", "2.5"], "error: num_gpus above 1 must be a whole number (as in Ray), not 2.5"),
            (["--memory", "lots"], "error: --memory must be bytes or a size with B, KiB, MiB, GiB or TiB (e.g. 500MiB), not 'lots'"),
            (["--memory", "-5MiB"], "error: --memory must be bytes or a size with B, KiB, MiB, GiB or TiB (e.g. 500MiB), not '-5MiB'"),
            (["--resources", "gpu=1"],
                "error: --resources takes custom resources only: give gpu with --num-gpus (as Ray wants num_cpus, num_gpus and memory, not resources={\"CPU\": ...})"),
            (["--resources", "accelerator_x"],
                "error: --resources: 'accelerator_x' is not NAME=AMOUNT (names: lower-case letters, digits and '_', e.g. cpu=4 or memory=500MiB)"),
        ];

        var results = await BankCommands.LimitedAsync(cases, 4, c => _bank.RunAsync(["open", "bad", "--balance", "1", .. c.Args]));
        var json = await _bank.RunAsync("open", "bad", "--balance", "1", "--memory", "lots", "--json");

        for (var i = 0; i < cases.Length; i++)
            Assert.Equal(cases[i].Error, BankCommands.AssertOneLineError(results[i], 2, $"open {string.Join(' ', cases[i].Args)}"));
        Assert.Equal(("Usage", "--memory must be bytes or a size with B, KiB, MiB, GiB or TiB (e.g. 500MiB), not 'lots'"),
            BankCommands.AssertJsonError(json, 2, "open --memory lots --json"));
        var actors = Assert.IsType<JsonArray>((await _bank.JsonAsync("list"))["actors"]);
        Assert.DoesNotContain(actors, a => (string?)a!["name"] == "bad");
    }

    /// <summary>The one node of `bank status --json`, after checking the cluster's pending count and the node's placed count.</summary>
    private JsonObject StatusNode(JsonObject status, int pending, int placed)
    {
        Assert.Equal(pending, (int)status["pending"]!);
        var node = Assert.IsType<JsonObject>(Assert.Single(Assert.IsType<JsonArray>(status["nodes"])));
        Assert.Equal(Node, (string?)node["address"]);
        Assert.Equal(placed, (int)node["placed"]!);
        return node;
    }

    private static string Row(BankProcess.Result list, string name) =>
        Assert.Single(list.Lines, l => l.StartsWith(name + " ", StringComparison.Ordinal));

    /// <summary>A JSON object of resources as (name, amount) pairs in name order; every amount must be a JSON number.</summary>
    public static (string Name, decimal Amount)[] Amounts(JsonNode? resources) =>
        [.. Assert.IsType<JsonObject>(resources).Select(r =>
        {
            Assert.True(r.Value?.GetValueKind() == JsonValueKind.Number, $"resource '{r.Key}' is not a JSON number: {resources!.ToJsonString()}");
            return (r.Key, r.Value!.GetValue<decimal>());
        }).OrderBy(r => r.Key, StringComparer.Ordinal)];
}
