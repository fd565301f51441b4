using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>The head of <see cref="StateStoreCliSpecs"/>, with the accounts they use.</summary>
public sealed class StateStoreHeadFixture : HeadProcessFixture
{
    /// <summary>The accounts the specs use (each spec its own) and their opening balances, opened at once before they run.</summary>
    public static readonly IReadOnlyDictionary<string, int> Accounts = new Dictionary<string, int>
    {
        ["sam"] = 20, ["lou"] = 10, ["ned"] = 3, ["sue"] = 7, ["rip"] = 40,
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
/// Issue 6: `bank list` and `bank balance NAME --from-store` read balances from the state store that the persistence
/// workers keep from the journal: from the database, without waking an account, with the store's lag. The store takes
/// a write in up to about a second late, so the specs ask again until it shows (never a fixed sleep).
/// </summary>
[Collection(ClusterCollection.Name)]
[TestCaseOrderer(RunsLastOrderer.TypeName, RunsLastOrderer.AssemblyName)]
public sealed class StateStoreCliSpecs(StateStoreHeadFixture fixture, ITestOutputHelper output) : IClassFixture<StateStoreHeadFixture>
{
    private BankCommands Bank => fixture.Bank;

    [Fact]
    public async Task Bench_through_ClusterClient_from_another_process_verifies_every_balance_and_sees_the_store_catch_up()
    {
        var summary = await Bank.JsonAsync("bench", "--accounts", "6", "--ops", "5", "--concurrency", "4", "--warmup", "0");

        Assert.True((bool)summary["verified"]!, summary.ToJsonString());
        Assert.Equal(("cluster", 30), ((string?)summary["journal"], (int)summary["ops"]!));
        Assert.True((double)summary["ops_per_s"]! > 0);
        Assert.NotNull(summary["store_caught_up_ms"]);
        // The allocation it reports is this client process's alone: the cluster's nodes are other processes.
        Assert.Equal("client", (string?)summary["allocated_in"]);
        Assert.True((double)summary["allocated_bytes_per_op"]! > 0);
        // Actor messages are counted where the node runs, which is not this process.
        Assert.Equal((null, null, "not counted: the node is another process"),
            ((double?)summary["hops_per_op"], (double?)summary["account_hops_per_op"], (string?)summary["hops_in"]));
    }

    [Fact]
    public async Task List_gives_the_balances_of_the_state_store_and_its_lag()
    {
        Assert.Equal("25.0", await Bank.OkAsync("deposit", "sam", "5"));
        await Bank.OkAsync("kill", "ned");

        var json = await Bank.ListWhenStoredAsync(("sam", 25m), ("lou", 10m));
        Assert.Equal(JsonValueKind.Number, json["store_lag"]!.GetValueKind());
        Assert.True((long)json["store_lag"]! >= 0);
        var actors = Assert.IsType<JsonArray>(json["actors"]);
        var sam = Assert.IsType<JsonObject>(Assert.Single(actors, a => (string?)a!["name"] == "sam"));
        foreach (var field in new[] { "name", "key", "id", "state", "node", "restarts", "detached", "balance", "death_cause", "resources" })
            Assert.True(sam.ContainsKey(field), $"bank list --json has no '{field}' for an actor: {sam.ToJsonString()}");
        Assert.Equal(("ALIVE", 0), ((string?)sam["state"], (int)sam["restarts"]!));
        Assert.Equal(JsonValueKind.Number, sam["balance"]!.GetValueKind());
        // A dead actor shows no balance: its key's row in the store belongs to whichever incarnation uses the key now.
        var ned = Assert.Single(actors, a => (string?)a!["name"] == "ned")!;
        Assert.Equal(("DEAD", "KILLED"), ((string?)ned["state"], (string?)ned["death_cause"]));
        Assert.Null(ned["balance"]);

        var text = await Bank.RunAsync("list");
        BankCommands.AssertOk(text, ["list"]);
        Assert.Matches(@"^NAME\s+STATE\s+NODE\s+RESTARTS\s+RESOURCES\s+DETACHED\s+BALANCE\s+DEATH CAUSE\s+ID$", text.Lines[0]);
        Assert.Matches($@"^sam\s+ALIVE\s+\S+\s+0\s+-\s+yes\s+25\.0\s+-\s+{(string?)fixture.Opened["sam"]["id"]}$", Row(text, "sam"));
        Assert.Matches(@"^ned\s+DEAD\s+\S+\s+0\s+-\s+yes\s+-\s+KILLED\s+", Row(text, "ned"));
        // The store's lag is said after the table only when there is one.
        var last = text.Lines[^1];
        Assert.True(last.StartsWith("store lag: ", StringComparison.Ordinal)
            ? Regex.IsMatch(last, @"^store lag: [1-9][0-9]* event\(s\)$")
            : Regex.IsMatch(last, @"^[a-z]+\s+(ALIVE|DEAD)\s"), $"unexpected last line of bank list: {last}");
    }

    [Fact]
    public async Task Balance_from_store_prints_the_stored_balance_and_json_gives_its_version_and_the_lag()
    {
        Assert.Equal("12.0", await Bank.OkAsync("deposit", "sue", "5"));

        // Opened, then deposited: the row is at the account's second event.
        var json = await Bank.JsonWhenAsync(j => j["balance"] is JsonValue b && b.GetValue<decimal>() == 12m, "balance", "sue", "--from-store");
        Assert.Equal(["balance", "lag", "name", "version"], json.Select(p => p.Key).Order());
        Assert.Equal("sue", (string?)json["name"]);
        Assert.Equal(JsonValueKind.Number, json["balance"]!.GetValueKind());
        Assert.Equal(2L, (long)json["version"]!);
        Assert.True((long)json["lag"]! >= 0);
        // Rows never go back: once the store showed it, it keeps showing it.
        Assert.Equal("12.0", await Bank.OkAsync("balance", "sue", "--from-store"));
        Assert.Equal("12.0", await Bank.OkAsync("balance", "sue"));
    }

    [Fact]
    public async Task Balance_from_store_of_an_unknown_name_exits_3_and_the_flag_goes_with_balance_only()
    {
        var unknown = Bank.RunAsync("balance", "nobody", "--from-store");
        var unknownJson = Bank.RunAsync("balance", "nobody", "--from-store", "--json");
        var onDeposit = Bank.RunAsync("deposit", "sue", "1", "--from-store");

        Assert.Equal("error: no actor named 'nobody'", BankCommands.AssertOneLineError(await unknown, 3, "balance --from-store of an unknown name"));
        Assert.Equal(("ActorNotFound", "no actor named 'nobody'"), BankCommands.AssertJsonError(await unknownJson, 3, "the same with --json"));
        Assert.Equal("error: unknown option '--from-store'; see 'bank deposit --help'", BankCommands.AssertOneLineError(await onDeposit, 2, "deposit --from-store"));
    }

    /// <summary>
    /// After a restart no account runs until something calls it: `bank list` and `bank balance --from-store` still
    /// give the balances, from the store, and the shard regions show that neither started the account; `bank balance`
    /// without the flag does.
    /// </summary>
    [Fact]
    [RunsLast]
    public async Task After_a_restart_list_and_balance_from_store_give_the_balances_without_waking_any_account()
    {
        Assert.Equal("45.0", await Bank.OkAsync("deposit", "rip", "5"));
        await Bank.JsonWhenAsync(j => j["balance"] is JsonValue b && b.GetValue<decimal>() == 45m, "balance", "rip", "--from-store");
        var key = (string)fixture.Opened["rip"]["key"]!;

        var code = await fixture.RestartHeadAsync();
        Assert.True(code == 0, $"the head exited {code} on SIGTERM{fixture.Head.Tail()}");
        var bank = fixture.Bank;

        var list = await bank.JsonAsync("list");
        Assert.Equal(45m, BankCommands.StoredBalance(list, "rip"));
        Assert.Equal("45.0", await bank.OkAsync("balance", "rip", "--from-store"));
        Assert.DoesNotContain(key, await RunningAccountsAsync(bank));

        Assert.Equal("45.0", await bank.OkAsync("balance", "rip"));
        Assert.Contains(key, await RunningAccountsAsync(bank));
        output.WriteLine($"after the restart the store gave rip's balance with lag {(long)list["store_lag"]!}; the account started only when called");

        var stopped = await fixture.Head.StopAsync();
        Assert.True(stopped == 0, $"the head exited {stopped} on SIGTERM{fixture.Head.Tail()}");
    }

    /// <summary>The account keys whose entities run now, on any node (`bank shards --type account --entities`).</summary>
    private static async Task<IReadOnlyList<string>> RunningAccountsAsync(BankCommands bank)
    {
        var shards = await bank.JsonAsync("shards", "--type", "account", "--entities");
        return
        [
            .. Assert.IsType<JsonArray>(shards["regions"])
                .SelectMany(r => r!["detail"] as JsonArray ?? [])
                .SelectMany(d => Assert.IsType<JsonArray>(d!["entity_ids"]))
                .Select(id => (string)id!),
        ];
    }

    private static string Row(BankProcess.Result list, string name) =>
        Assert.Single(list.Lines, l => l.StartsWith(name + " ", StringComparison.Ordinal));
}
