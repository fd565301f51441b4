using Akka.Actor;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>A node whose accounts snapshot every 5 events, so a test can see the applied ids survive a snapshot.</summary>
public sealed class SnapshotEveryFiveFixture : BankNodeFixture
{
    protected override string Hocon => base.Hocon + "\nbank.accounts.snapshot-every = 5";
}

/// <summary>
/// A retried call never applies twice (issue 3, DESIGN.md §5): a client that hears nothing resends the same request id,
/// and the account answers a repeat with what the first delivery returned, without persisting anything. The registry
/// answers a repeated open or kill the same way.
/// </summary>
public class DuplicateDeliverySpecs(SnapshotEveryFiveFixture fixture) : BankNodeSpec<SnapshotEveryFiveFixture>(fixture)
{
    [Fact]
    public async Task A_deposit_delivered_twice_with_one_request_id_is_applied_once()
    {
        var (key, incarnation) = await OpenThroughRegionAsync(100m);
        var before = await ProbeAsync(Accounts, key);
        var deposit = new AccountRequest(key, incarnation, new Deposit(10m, "req-1"));

        // The retry is sent before the first answer comes back, as a client that timed out would.
        Accounts.Tell(deposit, TestActor);
        Accounts.Tell(deposit, TestActor);

        Assert.Equal(110m, (await ExpectMsgAsync<AccountReply>()).Balance);
        Assert.Equal(110m, (await ExpectMsgAsync<AccountReply>()).Balance);
        Assert.Equal(before.LastSequenceNr + 1, (await ProbeAsync(Accounts, key)).LastSequenceNr);
        Assert.Equal(110m, (await CallAsync(Accounts, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task A_withdrawal_delivered_twice_with_one_request_id_is_applied_once()
    {
        var (key, incarnation) = await OpenThroughRegionAsync(100m);
        var before = await ProbeAsync(Accounts, key);

        var first = await CallAsync(Accounts, key, incarnation, new Withdraw(30m, "req-1"));
        var retry = await CallAsync(Accounts, key, incarnation, new Withdraw(30m, "req-1"));

        Assert.Equal(70m, first.Balance);
        Assert.Equal(70m, retry.Balance);
        Assert.Equal(before.LastSequenceNr + 1, (await ProbeAsync(Accounts, key)).LastSequenceNr);
        Assert.Equal(70m, (await CallAsync(Accounts, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task A_late_retry_is_answered_with_the_balance_its_first_delivery_returned()
    {
        var (key, incarnation) = await OpenThroughRegionAsync(100m);
        await CallAsync(Accounts, key, incarnation, new Deposit(10m, "req-1"));
        await CallAsync(Accounts, key, incarnation, new Deposit(5m, "req-2"));
        var before = await ProbeAsync(Accounts, key);

        var retry = await CallAsync(Accounts, key, incarnation, new Deposit(10m, "req-1"));

        Assert.Equal(110m, retry.Balance);
        Assert.Equal(before.LastSequenceNr, (await ProbeAsync(Accounts, key)).LastSequenceNr);
        Assert.Equal(115m, (await CallAsync(Accounts, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task Calls_with_different_request_ids_are_each_applied()
    {
        var (key, incarnation) = await OpenThroughRegionAsync(100m);

        await CallAsync(Accounts, key, incarnation, new Deposit(10m, "req-1"));
        await CallAsync(Accounts, key, incarnation, new Deposit(10m, "req-2"));
        await CallAsync(Accounts, key, incarnation, new Deposit(10m));
        await CallAsync(Accounts, key, incarnation, new Deposit(10m));

        Assert.Equal(140m, (await CallAsync(Accounts, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task A_retry_after_the_account_restarted_is_not_applied_again()
    {
        var (first, key, incarnation) = await OpenAccountActorAsync("restart", 100m);
        Assert.Equal(110m, (await CallAsync(first, key, incarnation, new Deposit(10m, "req-1"))).Balance);
        var applied = await ProbeAsync(first, key);

        await StopAsync(first);
        var second = StartAccount(key);
        var retry = await CallAsync(second, key, incarnation, new Deposit(10m, "req-1"));

        Assert.Equal(110m, retry.Balance);
        var recovered = await ProbeAsync(second, key);
        Assert.NotEqual(applied.InstanceId, recovered.InstanceId);
        Assert.Equal(applied.LastSequenceNr, recovered.LastSequenceNr);
        Assert.Equal(110m, (await CallAsync(second, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task A_retry_of_a_call_recorded_in_a_snapshot_is_not_applied_again_after_recovery_from_it()
    {
        var (first, key, incarnation) = await OpenAccountActorAsync("snapshot", 100m);
        for (var i = 1; i <= 12; i++)
            await CallAsync(first, key, incarnation, new Deposit(i, $"req-{i}"));
        // Events 1 (open) to 13; snapshots at 5 and 10, saved asynchronously: the one at 10 must be stored first.
        await AwaitAssertAsync(
            async () => Assert.Equal(10, await NewestSnapshotSequenceNrAsync(key)),
            TimeSpan.FromSeconds(10));

        await StopAsync(first);
        var second = StartAccount(key);
        var recovery = await ProbeAsync(second, key);
        Assert.Equal(10, recovery.SnapshotSequenceNr);
        Assert.Equal(3, recovery.EventsReplayed);

        // req-1 and req-8 are known only from the snapshot; req-12 from an event replayed after it.
        Assert.Equal(101m, (await CallAsync(second, key, incarnation, new Deposit(1m, "req-1"))).Balance);
        Assert.Equal(136m, (await CallAsync(second, key, incarnation, new Deposit(8m, "req-8"))).Balance);
        Assert.Equal(178m, (await CallAsync(second, key, incarnation, new Deposit(12m, "req-12"))).Balance);
        Assert.Equal(13, (await ProbeAsync(second, key)).LastSequenceNr);
        Assert.Equal(178m, (await CallAsync(second, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task An_open_delivered_twice_with_one_request_id_creates_one_actor_and_answers_both_with_it()
    {
        var name = Unique("open-twice");
        var open = new OpenActor(name, null, 100m, 0m, Detached: true, GetIfExists: false, Owner: null, RequestId: Unique("req"));

        // The retry arrives while the account is still being created, and once more after the answer.
        NameRegistry.Tell(open, TestActor);
        NameRegistry.Tell(open, TestActor);
        var first = await ExpectMsgAsync<ActorInfo>();
        var second = await ExpectMsgAsync<ActorInfo>();
        NameRegistry.Tell(open, TestActor);
        var third = await ExpectMsgAsync<ActorInfo>();

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.Id, third.Id);
        NameRegistry.Tell(ListActors.Instance, TestActor);
        var listed = Assert.Single((await ExpectMsgAsync<ActorList>()).Actors, a => a.Name == name);
        Assert.Equal(first.Id, listed.Id);
    }

    [Fact]
    public async Task An_open_of_a_taken_name_with_a_new_request_id_still_fails_with_AlreadyExists()
    {
        var name = Unique("taken");
        NameRegistry.Tell(new OpenActor(name, null, 100m, 0m, true, false, null, Unique("req")), TestActor);
        await ExpectMsgAsync<ActorInfo>();

        NameRegistry.Tell(new OpenActor(name, null, 100m, 0m, true, false, null, Unique("req")), TestActor);

        var rejected = await ExpectMsgAsync<Rejected>();
        Assert.Equal(ErrorKind.AlreadyExists, rejected.Kind);
        Assert.Equal($"Actor with name '{name}' already exists", rejected.Message);
    }

    [Fact]
    public async Task A_kill_delivered_twice_with_one_request_id_answers_both_with_the_dead_actor()
    {
        var name = Unique("kill-twice");
        NameRegistry.Tell(new OpenActor(name, null, 100m, 0m, true, false, null, Unique("req")), TestActor);
        var opened = await ExpectMsgAsync<ActorInfo>();
        var kill = new KillActor(name, DeathCauses.Killed, RequestId: Unique("req"));

        NameRegistry.Tell(kill, TestActor);
        var first = await ExpectMsgAsync<ActorInfo>();
        NameRegistry.Tell(kill, TestActor);
        var retry = await ExpectMsgAsync<ActorInfo>();

        Assert.Equal(opened.Id, first.Id);
        Assert.Equal(ActorState.Dead, first.State);
        Assert.Equal(DeathCauses.Killed, first.DeathCause);
        Assert.Equal(first, retry);
        // A kill with a new id is a new call: the name is gone.
        NameRegistry.Tell(new KillActor(name, DeathCauses.Killed, RequestId: Unique("req")), TestActor);
        Assert.Equal(ErrorKind.ActorNotFound, (await ExpectMsgAsync<Rejected>()).Kind);
    }

    private async Task<(string Key, string Incarnation)> OpenThroughRegionAsync(decimal balance)
    {
        var key = Unique("dup");
        var incarnation = Unique("id");
        await CallAsync(Accounts, key, incarnation, new OpenAccount(balance, 0m, incarnation));
        return (key, incarnation);
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
