using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;
using Bank.Hosting.Contracts;

namespace Bank.Nodes.Tests;

/// <summary>
/// One head node (`bank start --head`, embedded SQLite, a free loopback port) as a real process, shared by the specs of
/// a class. The class's last spec usually stops or kills it; disposing stops what still runs and deletes its data.
/// </summary>
public abstract class HeadProcessFixture(params string[] extraArgs) : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

    public BankProcess Head { get; private set; } = null!;

    public BankCommands Bank { get; private set; } = null!;

    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort.Next();
        Head = await StartHeadAsync();
        try
        {
            Bank = new BankCommands(Head.Address);
            await StartedAsync();
        }
        catch
        {
            await Head.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops the head (SIGTERM) if it runs and starts a new head process on the same port and data folder, as a user
    /// restarts a node: detached actors are alive again, and no account runs until something calls it.
    /// </summary>
    /// <returns>The exit code of the head that stopped.</returns>
    public async Task<int?> RestartHeadAsync()
    {
        int? code = Head.HasExited ? null : await Head.StopAsync();
        await Head.DisposeAsync();
        Head = await StartHeadAsync();
        Bank = new BankCommands(Head.Address);
        return code;
    }

    private Task<BankProcess> StartHeadAsync() =>
        BankProcess.StartNodeAsync($"head on port {_port} {string.Join(" ", extraArgs)}".TrimEnd(),
            ["start", "--head", "--port", _port.ToString(), "--data", _data, .. extraArgs]);

    /// <summary>What the specs need on the head before they run.</summary>
    protected virtual Task StartedAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            // Normally the last spec has stopped it already (and checked how); this is for runs of a few specs.
            if (!Head.HasExited) await Head.StopAsync();
        }
        finally
        {
            await Head.DisposeAsync();
            if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
        }
    }
}

/// <summary>The head of <see cref="ClusterCliSpecs"/>, with the accounts they use.</summary>
public sealed class HeadNodeFixture : HeadProcessFixture
{
    /// <summary>The accounts the specs use, opened at once before they run (a client command takes a second or two).</summary>
    public static readonly IReadOnlyDictionary<string, int> Accounts = new Dictionary<string, int>
    {
        ["a"] = 1, ["carol"] = 100, ["dave"] = 10, ["erin"] = 7, ["frank"] = 8, ["gina"] = 100, ["henry"] = 10,
        ["tina"] = 100, ["tom"] = 5,
    };

    /// <summary>What `bank open NAME --balance B --json` printed for each of <see cref="Accounts"/>.</summary>
    public IReadOnlyDictionary<string, JsonObject> Opened { get; private set; } = null!;

    protected override async Task StartedAsync()
    {
        var opened = await Task.WhenAll(Accounts.Select(async a =>
            (a.Key, Json: await Bank.JsonAsync("open", a.Key, "--balance", a.Value.ToString()))));
        Opened = opened.ToDictionary(o => o.Key, o => o.Json);
    }
}

/// <summary>
/// The account commands of `bank` as a user runs them: real client processes against a real head node, their text,
/// their --json objects, their one-line errors and exit codes (DESIGN.md section 4).
/// </summary>
[Collection(ClusterCollection.Name)]
[TestCaseOrderer(RunsLastOrderer.TypeName, RunsLastOrderer.AssemblyName)]
public sealed partial class ClusterCliSpecs(HeadNodeFixture fixture, ITestOutputHelper output) : IClassFixture<HeadNodeFixture>
{
    private readonly BankCommands _bank = fixture.Bank;

    private string Node => $"akka.tcp://bank@{fixture.Head.Address}";

    [Fact]
    public async Task Open_prints_the_actor_and_json_gives_its_fields()
    {
        var text = _bank.OkAsync("open", "alice", "--balance", "100");
        var json = _bank.JsonAsync("open", "bob", "--balance", "10", "--minimal", "5");

        Assert.Matches(ActorLine(), await text);
        var bob = await json;
        Assert.Equal("bob", (string?)bob["name"]);
        Assert.Matches("^[0-9a-f]{32}$", (string?)bob["key"]);
        Assert.Matches("^[0-9a-f]{32}$", (string?)bob["id"]);
        Assert.Equal("ALIVE", (string?)bob["state"]);
        Assert.Equal(Node, (string?)bob["node"]);
        Assert.True((bool?)bob["detached"]);
    }

    [Fact]
    public async Task Deposit_withdraw_and_balance_print_the_balance_as_text_and_as_a_json_number()
    {
        Assert.Equal("150.0", await _bank.OkAsync("deposit", "carol", "50"));

        var withdrawn = await _bank.JsonAsync("withdraw", "carol", "30.5");
        Assert.Equal(["balance", "name"], withdrawn.Select(p => p.Key).Order());
        Assert.Equal("carol", (string?)withdrawn["name"]);
        Assert.Equal(JsonValueKind.Number, withdrawn["balance"]!.GetValueKind());
        Assert.Equal(119.5m, withdrawn["balance"]!.GetValue<decimal>());

        var text = _bank.OkAsync("balance", "carol");
        var json = _bank.JsonAsync("balance", "carol");
        Assert.Equal("119.5", await text);
        Assert.Equal(119.5m, (await json)["balance"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_rule_violation_exits_1_with_one_line_and_leaves_the_balance_alone()
    {
        var text = _bank.RunAsync("withdraw", "dave", "1000");
        var json = _bank.RunAsync("withdraw", "dave", "1000", "--json");

        Assert.Equal("error: Withdrawal is not supported by current balance",
            BankCommands.AssertOneLineError(await text, 1, "withdraw too much"));
        Assert.Equal(("RuleViolation", "Withdrawal is not supported by current balance"),
            BankCommands.AssertJsonError(await json, 1, "withdraw too much --json"));
        Assert.Equal("10.0", await _bank.OkAsync("balance", "dave"));
    }

    [Fact]
    public async Task Names_are_unique_while_alive_get_if_exists_returns_the_live_actor_and_kill_frees_the_name()
    {
        var opened = fixture.Opened["a"];
        var unknownText = _bank.RunAsync("get", "x");
        var unknownJson = _bank.RunAsync("get", "x", "--json");
        var againText = _bank.RunAsync("open", "a", "--balance", "1");
        var againJson = _bank.RunAsync("open", "a", "--balance", "1", "--json");
        var getIfExists = _bank.JsonAsync("open", "a", "--balance", "999", "--get-if-exists");
        var get = _bank.OkAsync("get", "a");

        Assert.Equal("error: no actor named 'x'", BankCommands.AssertOneLineError(await unknownText, 3, "get of an unknown name"));
        Assert.Equal(("ActorNotFound", "no actor named 'x'"), BankCommands.AssertJsonError(await unknownJson, 3, "get x --json"));
        Assert.Equal("error: Actor with name 'a' already exists", BankCommands.AssertOneLineError(await againText, 1, "open of a live name"));
        Assert.Equal(("AlreadyExists", "Actor with name 'a' already exists"), BankCommands.AssertJsonError(await againJson, 1, "open a --json"));
        var same = await getIfExists;
        Assert.Equal((string?)opened["id"], (string?)same["id"]);
        Assert.Equal((string?)opened["key"], (string?)same["key"]);
        Assert.Equal($"Actor(Account, {(string?)opened["id"]})", await get);

        Assert.Matches($"^Killed Actor\\(Account, {(string?)opened["id"]}\\)", await _bank.OkAsync("kill", "a"));
        Assert.Equal("error: no actor named 'a'", BankCommands.AssertOneLineError(await _bank.RunAsync("get", "a"), 3, "get after kill"));
    }

    [Fact]
    public async Task List_shows_name_state_node_and_balance_of_live_and_dead_actors()
    {
        await _bank.OkAsync("kill", "frank");

        // Balances come from the state store, which shows erin's open once it has taken it in (rows never go back).
        var listed = await _bank.ListWhenStoredAsync(("erin", 7m));
        var text = await _bank.RunAsync("list");
        BankCommands.AssertOk(text, ["list"]);
        Assert.Matches(@"^NAME\s+STATE\s+NODE\s+RESTARTS\s+RESOURCES\s+DETACHED\s+BALANCE\s+DEATH CAUSE\s+ID$", text.Lines[0]);
        Assert.Matches($@"^erin\s+ALIVE\s+{Regex.Escape(Node)}\s+0\s+-\s+yes\s+7\.0\s+-\s+{(string?)fixture.Opened["erin"]["id"]}$",
            Assert.Single(text.Lines, l => l.StartsWith("erin ", StringComparison.Ordinal)));
        Assert.Matches($@"^frank\s+DEAD\s+{Regex.Escape(Node)}\s+0\s+-\s+yes\s+-\s+KILLED\s+{(string?)fixture.Opened["frank"]["id"]}$",
            Assert.Single(text.Lines, l => l.StartsWith("frank ", StringComparison.Ordinal)));

        var actors = Assert.IsType<JsonArray>(listed["actors"]);
        var erin = Assert.IsType<JsonObject>(Assert.Single(actors, a => (string?)a!["name"] == "erin"));
        foreach (var field in new[] { "name", "key", "id", "state", "node", "restarts", "detached", "balance", "death_cause", "resources" })
            Assert.True(erin.ContainsKey(field), $"bank list --json has no '{field}' for an actor: {erin.ToJsonString()}");
        Assert.Equal((string?)fixture.Opened["erin"]["key"], (string?)erin["key"]);
        Assert.Equal((string?)fixture.Opened["erin"]["id"], (string?)erin["id"]);
        Assert.Equal("ALIVE", (string?)erin["state"]);
        Assert.Equal(Node, (string?)erin["node"]);
        Assert.Equal(0, (int?)erin["restarts"]);
        Assert.True((bool?)erin["detached"]);
        Assert.Equal(JsonValueKind.Number, erin["balance"]!.GetValueKind());
        Assert.Equal(7m, erin["balance"]!.GetValue<decimal>());
        Assert.Null(erin["death_cause"]);
        Assert.Empty(Assert.IsType<JsonObject>(erin["resources"]));

        var frank = Assert.IsType<JsonObject>(Assert.Single(actors, a => (string?)a!["name"] == "frank"));
        Assert.Equal("DEAD", (string?)frank["state"]);
        Assert.Equal("KILLED", (string?)frank["death_cause"]);
        Assert.Null(frank["balance"]);
    }

    [Fact]
    public async Task History_lists_the_events_oldest_first_with_amounts_and_balances()
    {
        await _bank.OkAsync("deposit", "gina", "50");
        await _bank.OkAsync("withdraw", "gina", "30");

        var textRun = _bank.RunAsync("history", "gina");
        var jsonRun = _bank.JsonAsync("history", "gina");

        var text = await textRun;
        BankCommands.AssertOk(text, ["history"]);
        Assert.Equal(4, text.Lines.Length);
        Assert.Matches(@"^SEQ\s+EVENT\s+AMOUNT\s+BALANCE\s+AT$", text.Lines[0]);
        Assert.Matches(@"^1\s+opened\s+100\.0\s+100\.0\s+\d{4}-", text.Lines[1]);
        Assert.Matches(@"^2\s+deposited\s+50\.0\s+150\.0\s+\d{4}-", text.Lines[2]);
        Assert.Matches(@"^3\s+withdrawn\s+30\.0\s+120\.0\s+\d{4}-", text.Lines[3]);

        var json = await jsonRun;
        Assert.Equal("gina", (string?)json["name"]);
        var events = Assert.IsType<JsonArray>(json["events"]).Select(e => (
            Seq: (long)e!["seq"]!, Type: (string)e["type"]!, Amount: e["amount"]!.GetValue<decimal>(), Balance: e["balance"]!.GetValue<decimal>()));
        Assert.Equal([(1L, "opened", 100m, 100m), (2L, "deposited", 50m, 150m), (3L, "withdrawn", 30m, 120m)], events);
    }

    /// <summary>Issue 3 point 7: each mistake gets its one documented line and exit code, never a stack trace.</summary>
    [Fact]
    public async Task Bad_input_gives_one_line_and_the_documented_exit_code()
    {
        var nowhere = new BankCommands($"127.0.0.1:{FreePort.Next()}");
        var longName = new string('n', 10_000);

        var negative = _bank.RunAsync("deposit", "henry", "-5");
        var nan = _bank.RunAsync("deposit", "henry", "NaN");
        var huge = _bank.RunAsync("withdraw", "henry", "1e400");
        var empty = _bank.RunAsync("open", "", "--balance", "1");
        var tooLong = _bank.RunAsync("open", longName, "--balance", "1");
        var unknownFlag = _bank.RunAsync("balance", "henry", "--bogus");
        var noCluster = nowhere.RunAsync("balance", "henry");
        var nanJson = _bank.RunAsync("deposit", "henry", "NaN", "--json");
        var noClusterJson = nowhere.RunAsync("balance", "henry", "--json");

        Assert.Equal("error: Cannot deposit negative amount", BankCommands.AssertOneLineError(await negative, 1, "a negative amount"));
        Assert.Equal("error: AMOUNT: 'NaN' is not a finite amount", BankCommands.AssertOneLineError(await nan, 2, "NaN"));
        Assert.Equal("error: AMOUNT: Amount must be finite and at most 2^63 in magnitude", BankCommands.AssertOneLineError(await huge, 2, "1e400"));
        Assert.Equal("error: Actor name must not be empty", BankCommands.AssertOneLineError(await empty, 2, "an empty name"));
        Assert.Equal("error: Actor name is 10000 characters long; the limit is 128",
            BankCommands.AssertOneLineError(await tooLong, 2, "a 10,000-character name"));
        Assert.Equal("error: unknown option '--bogus'; see 'bank balance --help'", BankCommands.AssertOneLineError(await unknownFlag, 2, "an unknown flag"));
        Assert.Equal($"error: no Bank node is listening at {nowhere.Address}; start one with 'bank start --head'",
            BankCommands.AssertOneLineError(await noCluster, 4, "no cluster running"));
        Assert.Equal(("Usage", "AMOUNT: 'NaN' is not a finite amount"), BankCommands.AssertJsonError(await nanJson, 2, "NaN --json"));
        Assert.Equal("ClusterUnreachable", BankCommands.AssertJsonError(await noClusterJson, 4, "no cluster --json").Kind);

        Assert.Equal("10.0", await _bank.OkAsync("balance", "henry"));
    }

    /// <summary>Issue 4 point 4: a transfer moves money once and prints both balances; the rule texts are withdraw's.</summary>
    [Fact]
    public async Task Transfer_moves_money_prints_both_balances_and_refuses_what_the_source_cannot_cover()
    {
        Assert.Equal("Transferred 30.0 from tina to tom: tina 70.0, tom 35.0", await _bank.OkAsync("transfer", "tina", "tom", "30"));

        var json = await _bank.JsonAsync("transfer", "tom", "tina", "5");
        Assert.Equal(("tom", "tina"), ((string?)json["from"], (string?)json["to"]));
        Assert.Equal((5m, 30m, 75m), (json["amount"]!.GetValue<decimal>(), json["from_balance"]!.GetValue<decimal>(), json["to_balance"]!.GetValue<decimal>()));

        Assert.Equal("error: Withdrawal is not supported by current balance",
            BankCommands.AssertOneLineError(await _bank.RunAsync("transfer", "tom", "tina", "1000"), 1, "a transfer tom cannot cover"));
        Assert.Equal("error: Cannot withdraw negative amount",
            BankCommands.AssertOneLineError(await _bank.RunAsync("transfer", "tom", "tina", "-1"), 1, "a negative transfer"));
        Assert.Equal("error: no actor named 'nobody'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("transfer", "tom", "nobody", "1"), 3, "a transfer to nobody"));
        Assert.Equal(["30.0", "75.0"], await Task.WhenAll(_bank.OkAsync("balance", "tom"), _bank.OkAsync("balance", "tina")));

        // A script that lost the answer sends the same --id again: the first outcome, and no second move.
        Assert.Equal("Transferred 10.0 from tina to tom: tina 65.0, tom 40.0", await _bank.OkAsync("transfer", "tina", "tom", "10", "--id", "rent-2026-11"));
        Assert.Equal("Transferred 10.0 from tina to tom: tina 65.0, tom 40.0", await _bank.OkAsync("transfer", "tina", "tom", "10", "--id", "rent-2026-11"));
        Assert.Equal("40.0", await _bank.OkAsync("balance", "tom"));
        Assert.Equal("error: transfer id 'rent-2026-11' was used for another transfer (10.0 from 'tina' to 'tom')",
            BankCommands.AssertOneLineError(await _bank.RunAsync("transfer", "tina", "tom", "11", "--id", "rent-2026-11"), 2, "an id used for another transfer"));
        Assert.StartsWith("error: --id must be",
            BankCommands.AssertOneLineError(await _bank.RunAsync("transfer", "tina", "tom", "1", "--id", "no spaces"), 2, "a bad id"));
    }

    /// <summary>Issue 4 point 1: Ray's supervision options on open, and Ray's own words for the combination it refuses.</summary>
    [Fact]
    public async Task Open_takes_max_restarts_and_max_task_retries_and_refuses_retries_without_restarts()
    {
        var opened = await _bank.JsonAsync("open", "supervised", "--balance", "1", "--max-restarts", "3", "--max-task-retries", "-1");
        Assert.Equal((3, -1), ((int)opened["max_restarts"]!, (int)opened["max_task_retries"]!));

        Assert.Equal("error: max_task_retries cannot be set if max_restarts is 0.",
            BankCommands.AssertOneLineError(await _bank.RunAsync("open", "unsupervised", "--balance", "1", "--max-task-retries", "2"), 2, "retries without restarts"));
        Assert.Equal("error: --max-restarts must be -1 (unlimited) or a whole number from 0, not 'lots'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("open", "unsupervised", "--balance", "1", "--max-restarts", "lots"), 2, "a word for a number"));
        Assert.Equal("error: --max-restarts must be -1 (unlimited) or a whole number from 0, not '-7'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("open", "unsupervised", "--balance", "1", "--max-restarts", "-7"), 2, "a negative budget"));
    }

    /// <summary>Issue 4 point 3: this head runs without --allow-fault-injection, so chaos is refused and nothing is hurt.</summary>
    [Fact]
    public async Task Chaos_is_refused_by_a_node_started_without_fault_injection()
    {
        var crash = BankCommands.AssertOneLineError(await _bank.RunAsync("chaos", "crash", "erin"), 2, "chaos crash without the flag");
        Assert.Equal($"error: fault injection is off on node {Node}: start the nodes with --allow-fault-injection", crash);
        var kill = BankCommands.AssertJsonError(await _bank.RunAsync("chaos", "kill-node", fixture.Head.Address, "--json"), 2, "kill-node without the flag");
        Assert.Equal(("Usage", $"fault injection is off on node {Node}: start the nodes with --allow-fault-injection"), kill);
        Assert.StartsWith("error: unknown chaos action 'explode'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("chaos", "explode", "erin"), 2, "an unknown chaos action"));
        Assert.Equal("error: --times must be a whole number from 1 to 1000000, not '0'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("chaos", "crash", "erin", "--times", "0"), 2, "zero crashes"));
        Assert.Equal("7.0", await _bank.OkAsync("balance", "erin"));
        Assert.False(fixture.Head.HasExited);
    }

    /// <summary>Issue 7: cluster show, shards and actor hierarchy say what runs where, as text and as JSON.</summary>
    [Fact]
    public async Task Cluster_show_shards_and_actor_hierarchy_say_what_runs_where()
    {
        var show = await _bank.RunAsync("cluster", "show");
        BankCommands.AssertOk(show, ["cluster", "show"]);
        Assert.StartsWith("ADDRESS", show.Lines[0]);
        Assert.Matches($"^{Regex.Escape(Node)} +Up +cpu[a-z,]* +yes +yes +yes +\\d{{4}}-", show.Lines[1]);
        Assert.Equal($"1 member(s), 1 up, 0 unreachable (as seen by {Node})", show.Lines[^1]);

        var json = await _bank.JsonAsync("cluster", "show");
        var member = Assert.Single(Assert.IsType<JsonArray>(json["members"]))!;
        Assert.Equal((Node, "Up", true, true, true), ((string?)member["address"], (string?)member["status"], (bool)member["reachable"]!,
            (bool)member["leader"]!, (bool)member["oldest"]!));

        var shards = await _bank.JsonAsync("shards", "--type", "account", "--entities");
        var region = Assert.Single(Assert.IsType<JsonArray>(shards["regions"]))!;
        Assert.Equal((Node, "account"), ((string?)region["node"], (string?)region["type"]));
        var ids = Assert.IsType<JsonArray>(region["detail"]).SelectMany(d => Assert.IsType<JsonArray>(d!["entity_ids"])).Select(id => (string?)id).ToList();
        Assert.Equal((int)region["entities"]!, ids.Count);
        Assert.Contains((string?)fixture.Opened["carol"]["key"], ids);

        var tree = await _bank.RunAsync("actor", "hierarchy", "--depth", "1");
        BankCommands.AssertOk(tree, ["actor", "hierarchy"]);
        Assert.Equal($"{Node}/user", tree.Lines[0]);
        Assert.Contains("├─ bank-gateway", tree.Lines);
    }

    /// <summary>Issue 5 point 4: `bank status` shows each node's roles, actors and resources used of total, and what is pending.</summary>
    [Fact]
    public async Task Status_shows_the_nodes_roles_actors_and_resources()
    {
        var text = await _bank.RunAsync("status");
        BankCommands.AssertOk(text, ["status"]);
        Assert.StartsWith($"Node {Node}  roles: cpu", text.Lines[0]);
        Assert.EndsWith("  placed: 0", text.Lines[0]);
        Assert.Contains(text.Lines, l => l.StartsWith("  cpu ", StringComparison.Ordinal) && l.Contains($"0/{Environment.ProcessorCount} used"));
        Assert.Matches(@"^1 node\(s\), \d+ actor\(s\), 0 placed with resources, 0 pending ", text.Lines[^1]);

        var json = await _bank.JsonAsync("status");
        var node = Assert.Single(Assert.IsType<JsonArray>(json["nodes"]))!;
        Assert.Equal(Node, (string?)node["address"]);
        Assert.True((int)node["actors"]! >= HeadNodeFixture.Accounts.Count);
        // The accounts of these specs ask for no resources: as in Ray they hold none while they run.
        Assert.Equal((0, 0), ((int)node["placed"]!, (int)json["pending"]!));
        var resources = node["resources"]!;
        Assert.Equal(Environment.ProcessorCount, (int)resources["total"]!["cpu"]!);
        Assert.Equal((decimal)resources["total"]!["memory"]!, (decimal)resources["free"]!["memory"]! + (decimal)resources["used"]!["memory"]!);
    }

    /// <summary>Issue 7: mistakes in the inspection commands get one line and the documented exit code.</summary>
    [Fact]
    public async Task Inspection_mistakes_get_one_line_and_the_documented_exit_code()
    {
        Assert.Equal("error: missing argument; usage: " + InspectionUsage("cluster"),
            BankCommands.AssertOneLineError(await _bank.RunAsync("cluster"), 2, "cluster without an action"));
        Assert.Equal("error: unknown cluster action 'explode'; usage: " + InspectionUsage("cluster"),
            BankCommands.AssertOneLineError(await _bank.RunAsync("cluster", "explode"), 2, "an unknown action"));
        Assert.Equal("error: 'nowhere' is not a node address: use HOST:PORT, as `bank cluster show` prints it",
            BankCommands.AssertOneLineError(await _bank.RunAsync("cluster", "leave", "nowhere"), 2, "a bad address"));
        Assert.Equal("error: no member at 127.0.0.1:1 in the cluster; `bank cluster show` lists them",
            BankCommands.AssertOneLineError(await _bank.RunAsync("cluster", "down", "127.0.0.1:1"), 3, "a member that is not there"));
        Assert.Equal("error: --type must be account or transfer, not 'pets'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("shards", "--type", "pets"), 2, "an unknown shard type"));
        Assert.Equal("error: --depth must be a whole number from 0 to 50, not '99'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("actor", "hierarchy", "--depth", "99"), 2, "too deep"));
        Assert.StartsWith("error: no actor at /user/nobody on ",
            BankCommands.AssertOneLineError(await _bank.RunAsync("actor", "hierarchy", "/user/nobody"), 3, "a path with no actor"));
    }

    /// <summary>Issue 7: tail prints membership events as they happen and ends on SIGTERM (or Ctrl+C) with exit 0.</summary>
    [Fact]
    public async Task Cluster_tail_prints_membership_events_until_sigterm_and_exits_0()
    {
        await using var tail = BankProcess.Start("cluster", "tail", "--address", fixture.Head.Address);
        await tail.WaitForLineAsync("Membership events above are the node's recent ones; new ones follow as they happen. Ctrl+C stops.", BankCommands.Timeout);

        await tail.TerminateAsync();
        var result = await tail.WaitForExitAsync(BankCommands.Timeout);

        Assert.True(result.ExitCode == 0, $"tail exited {result.ExitCode}: {result.Stderr}");
        Assert.Contains(result.Lines, l => Regex.IsMatch(l, $"^\\d{{4}}-.* up +{Regex.Escape(Node)} +\\(Up\\)$"));
    }

    private static string InspectionUsage(string command) =>
        Bank.Nodes.Cli.CommandTree.Synopsis(Bank.Nodes.Cli.CommandTree.Root.Subcommands.Single(c => c.Name == command));

    /// <summary>Runs after the other specs: the head that served them all leaves on SIGTERM and exits 0.</summary>
    [Fact]
    [RunsLast]
    public async Task Sigterm_makes_the_head_leave_the_cluster_and_exit_0_and_clients_then_get_exit_4()
    {
        var head = fixture.Head;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var code = await head.StopAsync();
        output.WriteLine($"the head exited {code} {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM; it wrote {head.Stderr.Length} characters to stderr");

        Assert.True(code == 0, $"the head exited {code} on SIGTERM{head.Tail()}");
        Assert.Contains("Leaving the cluster...", head.Stdout);
        Assert.Equal($"error: no Bank node is listening at {head.Address}; start one with 'bank start --head'",
            BankCommands.AssertOneLineError(await _bank.RunAsync("balance", "carol"), 4, "balance after the head stopped"));
    }

    [GeneratedRegex("^Actor\\(Account, [0-9a-f]{32}\\)$")]
    private static partial Regex ActorLine();
}
