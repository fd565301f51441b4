using System.Diagnostics;
using System.Text.Json.Nodes;
using Bank.Hosting.Client;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// A head with <see cref="Accounts"/> accounts and one account, "big", with a history of <see cref="Deposits"/> deposits,
/// made through the client library (many calls at once) so that the fixture takes seconds, not the minutes of one CLI
/// process per call.
/// </summary>
public sealed class PagingHeadFixture() : HeadProcessFixture("--no-dashboard")
{
    public const int Accounts = 5_000;

    public const int Deposits = 20_000;

    public static string Name(int i) => $"acct-{i:D5}";

    protected override async Task StartedAsync()
    {
        var took = Stopwatch.StartNew();
        await using var client = await BankClient.ConnectAsync([Head.Address]);
        var session = client.OpenSession();
        var big = await session.OpenAsync("big", new AccountOptions(0m, 0m) { Detached = true });
        // The opens queue at the registry, the deposits at one account: both at once.
        var deposits = BankCommands.LimitedAsync(Enumerable.Range(0, Deposits), 64, _ => session.DepositAsync(big, 1m));
        await BankCommands.LimitedAsync(Enumerable.Range(0, Accounts), 32, i => session.OpenAsync(Name(i), new AccountOptions(1m, 0m) { Detached = true }));
        Opens = took.Elapsed;
        await deposits;
        Setup = took.Elapsed;
    }

    public TimeSpan Opens { get; private set; }

    public TimeSpan Setup { get; private set; }
}

/// <summary>
/// Issue 17, point 7: `bank list`, `bank history` and `bank shards --entities` read their results a page at a time
/// through ClusterClient, each reply under Akka's frame size (128,000 bytes), so that thousands of accounts and a long
/// history can be read; `--limit N --after X` pages by hand. Without paging, each of these replies exceeds the frame.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PagingCliSpecs(PagingHeadFixture fixture, ITestOutputHelper output) : IClassFixture<PagingHeadFixture>
{
    private BankCommands Bank => fixture.Bank;

    [Fact]
    public async Task List_prints_every_one_of_5000_accounts_sorted_by_name_and_pages_with_limit_and_after()
    {
        output.WriteLine($"fixture: {PagingHeadFixture.Accounts} accounts and {PagingHeadFixture.Deposits} deposits in {fixture.Setup.TotalSeconds:0.0} s (opens {fixture.Opens.TotalSeconds:0.0} s)");
        var all = await Bank.RunAsync("list");
        BankCommands.AssertOk(all, ["list"]);
        Assert.StartsWith("NAME ", all.Lines[0], StringComparison.Ordinal);
        Assert.Equal([.. Enumerable.Range(0, PagingHeadFixture.Accounts).Select(PagingHeadFixture.Name), "big"], all.Lines.Skip(1).Where(l => !l.StartsWith("store lag:", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]));

        var page = await Bank.JsonAsync("list", "--limit", "100", "--after", PagingHeadFixture.Name(99));
        Assert.Equal(Enumerable.Range(100, 100).Select(PagingHeadFixture.Name), Assert.IsType<JsonArray>(page["actors"]).Select(a => (string)a!["name"]!));
        Assert.Equal(PagingHeadFixture.Name(199), (string?)page["next"]);
        Assert.Equal(1m, (decimal)page["actors"]![0]!["balance"]!);

        var textPage = await Bank.RunAsync("list", "--limit", "3", "--after", PagingHeadFixture.Name(4996));
        BankCommands.AssertOk(textPage, ["list"]);
        Assert.Equal($"more: --after {PagingHeadFixture.Name(4999)}", textPage.Lines[^1]);
        var last = await Bank.JsonAsync("list", "--limit", "100", "--after", PagingHeadFixture.Name(4999));
        Assert.Equal("big", (string?)Assert.Single(Assert.IsType<JsonArray>(last["actors"]))!["name"]);
        Assert.False(last.ContainsKey("next"));
    }

    [Fact]
    public async Task History_prints_every_one_of_20000_events_and_pages_with_limit_and_after()
    {
        var all = await Bank.JsonAsync("history", "big");
        var seqs = Assert.IsType<JsonArray>(all["events"]).Select(e => (long)e!["seq"]!).ToList();
        Assert.Equal(PagingHeadFixture.Deposits + 1, seqs.Count);
        Assert.Equal(Enumerable.Range(1, PagingHeadFixture.Deposits + 1).Select(i => (long)i), seqs);
        Assert.Equal((decimal)PagingHeadFixture.Deposits, (decimal)all["events"]![seqs.Count - 1]!["balance"]!);

        var page = await Bank.JsonAsync("history", "big", "--limit", "100", "--after", "500");
        Assert.Equal(Enumerable.Range(501, 100).Select(i => (long)i), Assert.IsType<JsonArray>(page["events"]).Select(e => (long)e!["seq"]!));
        Assert.Equal(600, (long)page["next"]!);

        var text = await Bank.RunAsync("history", "big", "--limit", "2", "--after", "19999");
        BankCommands.AssertOk(text, ["history"]);
        Assert.Equal(["SEQ", "20000", "20001"], text.Lines.Select(l => l.Split(' ')[0]));
        var end = await Bank.JsonAsync("history", "big", "--after", "20000");
        Assert.Single(Assert.IsType<JsonArray>(end["events"]));
        Assert.False(end.ContainsKey("next"));
    }

    [Fact]
    public async Task Shards_entities_lists_every_running_account_and_pages_with_limit_and_after()
    {
        // Accounts idle for 2 minutes passivate (sharding.hocon): on a slow machine the fixture's opens may be that old.
        await using (var client = await BankClient.ConnectAsync([fixture.Head.Address]))
        {
            var session = client.OpenSession();
            await BankCommands.LimitedAsync(Enumerable.Range(0, 1_500), 64, i => session.BalanceAsync(PagingHeadFixture.Name(i)));
        }

        var all = await Bank.JsonAsync("shards", "--type", "account", "--entities");
        var regions = Assert.IsType<JsonArray>(all["regions"]);
        var ids = regions.SelectMany(r => r!["detail"]!.AsArray().SelectMany(s => s!["entity_ids"]!.AsArray().Select(id => (string)id!))).ToList();
        Assert.Equal(regions.Sum(r => (int)r!["entities"]!), ids.Count);
        Assert.True(ids.Count > 1_000, $"only {ids.Count} account entities run");
        Assert.Equal(ids.Count, ids.Distinct().Count());

        var sorted = ids.Order(StringComparer.Ordinal).ToList();
        var page = await Bank.JsonAsync("shards", "--type", "account", "--entities", "--limit", "50", "--after", sorted[9]);
        var paged = page["regions"]!.AsArray().SelectMany(r => r!["detail"]!.AsArray().SelectMany(s => s!["entity_ids"]!.AsArray().Select(id => (string)id!)));
        Assert.Equal(sorted.Skip(10).Take(50), paged.Order(StringComparer.Ordinal));
        Assert.Equal(sorted[59], (string?)page["next"]);
    }

    [Theory]
    [InlineData("list", "--limit", "0")]
    [InlineData("list", "--limit", "ten")]
    [InlineData("history", "big", "--after", "-1")]
    [InlineData("shards", "--limit", "5")]
    [InlineData("list", "--after-id", "abc")]
    public async Task Bad_paging_options_are_usage_errors(params string[] args)
    {
        var result = await Bank.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.ErrorLines);
    }
}
