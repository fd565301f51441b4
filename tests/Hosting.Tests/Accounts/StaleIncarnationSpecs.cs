using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// A key outlives its incarnations: a close or an exit that names an earlier incarnation arrives late, and it must
/// never end the incarnation that holds the key now.
/// </summary>
public class StaleIncarnationSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public async Task A_close_for_an_earlier_incarnation_leaves_the_reopened_account_open()
    {
        var key = Unique("key");
        var first = Unique("id");
        var second = Unique("id");
        Accounts.Tell(new AccountRequest(key, first, new OpenAccount(10m, 0m, first)), TestActor);
        Assert.Equal(first, (await ExpectMsgAsync<AccountReply>()).Incarnation);
        Accounts.Tell(new AccountRequest(key, second, new OpenAccount(10m, 0m, second)), TestActor);
        var reopened = await ExpectMsgAsync<AccountReply>();
        Assert.Equal(second, reopened.Incarnation);
        Assert.Equal(2, reopened.Version);

        Accounts.Tell(new AccountRequest(key, first, new CloseAccount(DeathCauses.Killed, first)), TestActor);
        var closeReply = await ExpectMsgAsync<AccountReply>();

        Assert.Equal(second, closeReply.Incarnation);
        Assert.Equal(2, closeReply.Version);
        Accounts.Tell(new AccountRequest(key, second, new Deposit(5m)), TestActor);
        Assert.Equal(15m, (await ExpectMsgAsync<AccountReply>()).Balance);
        Accounts.Tell(new AccountProbe(key), TestActor);
        Assert.Equal(AccountStatus.Open, (await ExpectMsgAsync<AccountRecoveryInfo>()).Status);
    }

    [Fact]
    public async Task Exit_through_a_handle_of_an_earlier_incarnation_fails_with_ActorDied_and_only_the_current_handle_exits()
    {
        await using var session = NewSession();
        var name = Unique("exit");
        var old = await session.OpenAsync(name, new AccountOptions(10m, 0m));
        await session.KillAsync(name);
        var current = await session.OpenAsync(name, new AccountOptions(10m, 0m));
        Assert.NotEqual(old.Id, current.Id);

        var stale = await Assert.ThrowsAsync<BankException>(() => session.ExitAsync(old));

        Assert.Equal(ErrorKind.ActorDied, stale.Kind);
        var alive = await session.GetActorAsync(name);
        Assert.Equal(current.Id, alive.Id);
        Assert.Equal(ActorState.Alive, alive.State);
        Assert.Equal(15m, await session.DepositAsync(current, 5m));

        var exited = await session.ExitAsync(current);

        Assert.Equal(current.Id, exited.Id);
        Assert.Equal(ActorState.Dead, exited.State);
        Assert.Equal(DeathCauses.Exited, exited.DeathCause);
        var history = (await session.ListAsync()).Where(a => a.Name == name).ToList();
        Assert.Equal([(old.Id, DeathCauses.Killed), (current.Id, DeathCauses.Exited)],
            history.Select(a => (a.Id, a.DeathCause)));
    }
}
