using Akka.Actor;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// An AccountActor keeps its state in the journal: a new instance with the same key recovers it, from the newest
/// snapshot plus the events after it. The node snapshots every 10 events here.
/// </summary>
public class AccountRecoverySpecs(SnapshotEveryTenFixture fixture) : BankNodeSpec<SnapshotEveryTenFixture>(fixture)
{
    private AccountSettings Settings => AccountSettings.From(Sys);

    [Fact]
    public void Snapshot_interval_comes_from_the_node_configuration()
    {
        Assert.Equal(10, Settings.SnapshotEvery);
    }

    [Fact]
    public async Task Stopped_account_started_again_with_the_same_key_has_the_same_balance()
    {
        var (first, key, incarnation) = await OpenAccountActorAsync("restart", 100m);
        Assert.Equal(142m, (await CallAsync(first, key, incarnation, new Deposit(42m))).Balance);
        var firstInstance = await ProbeAsync(first, key);

        await StopAsync(first);
        var second = StartAccount(key);

        var balance = await CallAsync(second, key, incarnation, GetBalance.Instance);
        Assert.Equal(142m, balance.Balance);
        Assert.Equal(incarnation, balance.Incarnation);
        Assert.NotEqual(firstInstance.InstanceId, (await ProbeAsync(second, key)).InstanceId);
    }

    [Fact]
    public async Task Account_recovers_from_its_newest_snapshot_and_replays_only_the_later_events()
    {
        var (first, key, incarnation) = await OpenAccountActorAsync("snapshot", 100m);
        for (var i = 1; i <= 24; i++)
            Assert.Equal(100m + i, (await CallAsync(first, key, incarnation, new Deposit(1m))).Balance);
        // Snapshots are saved asynchronously: the one at event 20 must be stored before the restart can use it.
        await AwaitAssertAsync(
            async () => Assert.Equal(20, await NewestSnapshotSequenceNrAsync(key)),
            TimeSpan.FromSeconds(10));

        await StopAsync(first);
        var second = StartAccount(key);

        var recovery = await ProbeAsync(second, key);
        Assert.Equal(25, recovery.LastSequenceNr);
        Assert.Equal(20, recovery.SnapshotSequenceNr);
        Assert.Equal(5, recovery.EventsReplayed);
        Assert.Equal(AccountStatus.Open, recovery.Status);
        Assert.Equal(124m, (await CallAsync(second, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task Account_with_fewer_events_than_the_snapshot_interval_recovers_by_replaying_them_all()
    {
        var (first, key, incarnation) = await OpenAccountActorAsync("replay", 100m);
        for (var i = 1; i <= 5; i++)
            await CallAsync(first, key, incarnation, new Deposit(2m));

        await StopAsync(first);
        var second = StartAccount(key);

        var recovery = await ProbeAsync(second, key);
        Assert.Equal(6, recovery.LastSequenceNr);
        Assert.Equal(0, recovery.SnapshotSequenceNr);
        Assert.Equal(6, recovery.EventsReplayed);
        Assert.Equal(110m, (await CallAsync(second, key, incarnation, GetBalance.Instance)).Balance);
        Assert.Null(await NewestSnapshotSequenceNrAsync(key));
    }

    [Fact]
    public async Task Account_recovered_from_its_events_alone_answers_retries_of_the_calls_it_replayed_and_holds_its_transfer_steps()
    {
        var (first, key, incarnation) = await OpenAccountActorAsync("replayed-ids", 100m);
        await CallAsync(first, key, incarnation, new Deposit(5m, "req-1"));
        await CallAsync(first, key, incarnation, new Withdraw(20m, "transfer:t1:withdraw"));
        await CallAsync(first, key, incarnation, new Deposit(7m, "transfer:t2:deposit"));
        await CallAsync(first, key, incarnation, new ReleaseRequests(["transfer:t2:deposit"]));
        await CallAsync(first, key, incarnation, new Withdraw(1m, "req-2"));

        await StopAsync(first);
        var second = StartAccount(key);

        var recovery = await ProbeAsync(second, key);
        Assert.Equal((0, 6), (recovery.SnapshotSequenceNr, recovery.EventsReplayed));
        // Each retry is answered with the balance its first delivery left, and nothing is applied again.
        Assert.Equal(105m, (await CallAsync(second, key, incarnation, new Deposit(5m, "req-1"))).Balance);
        Assert.Equal(91m, (await CallAsync(second, key, incarnation, new Withdraw(1m, "req-2"))).Balance);
        Assert.Equal(85m, (await CallAsync(second, key, incarnation, new FindApplied("transfer:t1:withdraw"))).Balance);
        Assert.Equal(92m, (await CallAsync(second, key, incarnation, new Deposit(7m, "transfer:t2:deposit"))).Balance);
        Assert.Equal(6, (await ProbeAsync(second, key)).LastSequenceNr);
        Assert.Equal(91m, (await CallAsync(second, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task Rule_violation_persists_nothing_and_does_not_restart_the_account()
    {
        var (account, key, incarnation) = await OpenAccountActorAsync("violation", 100m, 10m);
        var before = await ProbeAsync(account, key);
        Watch(account);

        account.Tell(new AccountRequest(key, incarnation, new Withdraw(95m)), TestActor);
        var rejected = await ExpectMsgAsync<Rejected>();
        Assert.Equal(ErrorKind.RuleViolation, rejected.Kind);
        Assert.Equal("Withdrawal is not supported by current balance", rejected.Message);

        var after = await ProbeAsync(account, key);
        Assert.Equal(before.InstanceId, after.InstanceId);
        Assert.Equal(before.LastSequenceNr, after.LastSequenceNr);
        Assert.Equal(100m, (await CallAsync(account, key, incarnation, GetBalance.Instance)).Balance);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
        Unwatch(account);
    }

    /// <summary>Asks the node's snapshot store, as recovery would, for the account's newest snapshot.</summary>
    private async Task<long?> NewestSnapshotSequenceNrAsync(string key)
    {
        var store = Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        var result = await store.Ask<LoadSnapshotResult>(
            new LoadSnapshot(AccountActor.PersistenceIdFor(key), SnapshotSelectionCriteria.Latest, long.MaxValue),
            TimeSpan.FromSeconds(5));
        return result.Snapshot?.Metadata.SequenceNr;
    }
}
