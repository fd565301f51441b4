using System.Text.Json.Nodes;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>A head started with --allow-fault-injection, for the chaos commands.</summary>
public sealed class FaultInjectionHeadFixture() : HeadProcessFixture("--allow-fault-injection");

/// <summary>
/// `bank chaos` against a real head process started with --allow-fault-injection (issue 4 point 3): crashed actors come
/// back within their max_restarts and `bank list` counts their restarts; kill-node kills the node's process outright.
/// </summary>
[Collection(ClusterCollection.Name)]
[TestCaseOrderer(RunsLastOrderer.TypeName, RunsLastOrderer.AssemblyName)]
public sealed class ChaosCliSpecs(FaultInjectionHeadFixture fixture, ITestOutputHelper output) : IClassFixture<FaultInjectionHeadFixture>
{
    private readonly BankCommands _bank = fixture.Bank;

    [Fact]
    public async Task A_crashed_actor_is_restarted_within_its_budget_keeps_its_balance_and_list_counts_the_restarts()
    {
        await _bank.OkAsync("open", "sturdy", "--balance", "100", "--max-restarts", "5", "--max-task-retries", "-1");

        var crash = await _bank.JsonAsync("chaos", "crash", "sturdy", "--times", "2");
        Assert.Equal(2, (int)crash["times"]!);
        Assert.Equal("150.0", await _bank.OkAsync("deposit", "sturdy", "50"));

        // The balance comes from the state store, up to about a second behind the journal.
        var list = await _bank.ListWhenStoredAsync(("sturdy", 150m));
        var sturdy = Assert.Single(Assert.IsType<JsonArray>(list["actors"]), a => (string?)a!["name"] == "sturdy")!;
        Assert.Equal(("ALIVE", 2, 150m), ((string?)sturdy["state"], (int)sturdy["restarts"]!, sturdy["balance"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task An_actor_out_of_restarts_is_dead_with_MAX_RESTARTS_EXCEEDED_and_calls_exit_1()
    {
        await _bank.OkAsync("open", "brittle", "--balance", "10");
        Assert.Equal("'brittle' will crash on its next 1 call(s), on akka.tcp://bank@" + fixture.Head.Address,
            await _bank.OkAsync("chaos", "crash", "brittle"));

        var died = BankCommands.AssertOneLineError(await _bank.RunAsync("deposit", "brittle", "1"), 1, "a deposit that crashes the actor");
        Assert.Contains("with no restarts left (max_restarts=0)", died);

        var list = await _bank.JsonAsync("list");
        var brittle = Assert.Single(Assert.IsType<JsonArray>(list["actors"]), a => (string?)a!["name"] == "brittle")!;
        Assert.Equal(("DEAD", "MAX_RESTARTS_EXCEEDED"), ((string?)brittle["state"], (string?)brittle["death_cause"]));
        Assert.Equal("error: no actor named 'brittle'", BankCommands.AssertOneLineError(await _bank.RunAsync("balance", "brittle"), 3, "the dead actor's name"));
    }

    /// <summary>Runs last: the head dies at once, like kill -9, without leaving the cluster.</summary>
    [Fact]
    [RunsLast]
    public async Task Kill_node_kills_the_nodes_process_without_a_graceful_leave()
    {
        var head = fixture.Head;
        Assert.Equal($"Killed the node at {head.Address}: its process exits without leaving the cluster",
            await _bank.OkAsync("chaos", "kill-node", head.Address));

        var code = (await head.WaitForExitAsync(TimeSpan.FromSeconds(10))).ExitCode;
        output.WriteLine($"the head exited with {code} after chaos kill-node");
        Assert.Equal(137, code);
        Assert.DoesNotContain("Leaving the cluster...", head.Stdout);
    }
}
