using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Gateway;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// An account's entity answers a call tracked by id (<see cref="TrackedAccountRequest"/>) under that id, whatever the
/// answer: a reply, a rule's refusal, a dead incarnation's.
/// </summary>
public class TrackedCallSpecs(FaultInjectionFixture fixture) : BankNodeSpec<FaultInjectionFixture>(fixture)
{
    [Fact]
    public async Task A_tracked_call_is_answered_under_its_id_with_the_accounts_reply()
    {
        var (key, id) = await OpenedAsync(10m);

        Accounts.Tell(new TrackedAccountRequest(7, new AccountRequest(key, id, new Deposit(5m, Unique("r")))), TestActor);

        var answer = await ExpectMsgAsync<CorrelatedAccountReply>();
        Assert.Equal(7, answer.Id);
        Assert.Equal(15m, answer.Reply!.Balance);
        Assert.Null(answer.Rejected);
    }

    [Fact]
    public async Task A_rules_refusal_and_a_dead_incarnations_refusal_come_back_under_the_calls_id()
    {
        var (key, id) = await OpenedAsync(10m);

        Accounts.Tell(new TrackedAccountRequest(8, new AccountRequest(key, id, new Withdraw(50m, Unique("r")))), TestActor);
        var overdrawn = await ExpectMsgAsync<CorrelatedAccountReply>();
        Accounts.Tell(new TrackedAccountRequest(9, new AccountRequest(key, Unique("stale"), GetBalance.Instance)), TestActor);
        var stale = await ExpectMsgAsync<CorrelatedAccountReply>();

        Assert.Equal((8, ErrorKind.RuleViolation), (overdrawn.Id, overdrawn.Rejected!.Kind));
        Assert.Equal((9, ErrorKind.ActorDied), (stale.Id, stale.Rejected!.Kind));
    }

    [Fact]
    public async Task An_open_handed_back_to_the_shard_for_the_entitys_successor_keeps_its_id()
    {
        var (key, first) = await OpenedAsync(10m);
        var second = Unique("id");
        Accounts.Tell(new InjectCrash(key, first, 1), TestActor);
        await ExpectMsgAsync<CrashInjected>();
        // Without restarts, the crash kills the incarnation; its entity journals the close and then stops.
        Accounts.Tell(new AccountRequest(key, first, new Deposit(1m, Unique("r"))), TestActor);
        Assert.Equal(ErrorKind.ActorDied, (await ExpectMsgAsync<Rejected>()).Kind);

        // The dead incarnation's entity hands the open of the next one back to the shard, for a fresh entity to answer.
        Accounts.Tell(new TrackedAccountRequest(11, new AccountRequest(key, second, new OpenAccount(20m, 0m, second))), TestActor);

        var reopened = await ExpectMsgAsync<CorrelatedAccountReply>();
        Assert.Equal((11, second), (reopened.Id, reopened.Reply!.Incarnation));
    }

    [Fact]
    public async Task The_nodes_call_table_reaches_accounts_through_the_shard_region()
    {
        var (key, id) = await OpenedAsync(0m);
        var calls = InFlightCalls.For(Sys);

        var answers = await Task.WhenAll(Enumerable.Range(1, 50).Select(i =>
            calls.CallAsync(Accounts, new AccountRequest(key, id, new Deposit(1m, $"{id}-{i}")), TimeSpan.FromSeconds(30))));

        Assert.All(answers, a => Assert.IsType<AccountReply>(a));
        Assert.Equal(50m, answers.Cast<AccountReply>().Max(a => a.Balance));
    }

    /// <summary>An account opened under a fresh key and incarnation, through the shard region.</summary>
    private async Task<(string Key, string Id)> OpenedAsync(decimal balance)
    {
        var (key, id) = (Unique("key"), Unique("id"));
        await CallAsync(Accounts, key, id, new OpenAccount(balance, 0m, id));
        return (key, id);
    }
}
