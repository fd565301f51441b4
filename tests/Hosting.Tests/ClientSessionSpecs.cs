using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// What a client may do: call an account it holds a handle to, through the gateway; open and close only through the
/// registry; nothing more once its session is disposed.
/// </summary>
public class ClientSessionSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    public static TheoryData<string> IncarnationCommands => ["open", "close"];

    [Theory]
    [MemberData(nameof(IncarnationCommands))]
    public async Task Gateway_refuses_to_send_an_open_or_a_close_straight_to_an_account(string command)
    {
        await using var session = NewSession();
        var actor = await session.OpenAsync(Unique("direct"), new AccountOptions(10m, 0m));
        var thief = Unique("id");
        var request = command == "open"
            ? new AccountRequest(actor.Key, thief, new OpenAccount(10m, 0m, thief))
            : new AccountRequest(actor.Key, actor.Id, new CloseAccount(DeathCauses.Killed, actor.Id));

        var error = await Assert.ThrowsAsync<BankException>(() => NewGateway().AskAccountAsync(request));

        Assert.Equal(ErrorKind.Usage, error.Kind);
        Assert.Equal(15m, await session.DepositAsync(actor, 5m));
        Assert.Equal(actor.Id, (await session.GetActorAsync(actor.Name)).Id);
    }

    [Fact]
    public async Task Gateway_passes_deposits_withdrawals_and_balance_calls_to_the_account()
    {
        await using var session = NewSession();
        var actor = await session.OpenAsync(Unique("direct"), new AccountOptions(10m, 0m));
        var gateway = NewGateway();

        var deposited = await gateway.AskAccountAsync(new AccountRequest(actor.Key, actor.Id, new Deposit(5m)));
        var withdrawn = await gateway.AskAccountAsync(new AccountRequest(actor.Key, actor.Id, new Withdraw(3m)));
        var balance = await gateway.AskAccountAsync(new AccountRequest(actor.Key, actor.Id, GetBalance.Instance));

        Assert.Equal(15m, Assert.IsType<AccountReply>(deposited).Balance);
        Assert.Equal(12m, Assert.IsType<AccountReply>(withdrawn).Balance);
        Assert.Equal(12m, Assert.IsType<AccountReply>(balance).Balance);
    }

    [Fact]
    public async Task A_disposed_session_refuses_to_open_an_actor_and_registers_nothing()
    {
        var session = NewSession();
        var name = Unique("late");
        await session.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.OpenAsync(name, new AccountOptions(10m, 0m)));

        await using var observer = NewSession();
        Assert.DoesNotContain(await observer.ListAsync(), a => a.Name == name);
    }

    [Fact]
    public async Task Disposing_a_session_twice_ends_its_owner_once()
    {
        var gateway = new RecordingGateway(NewGateway());
        var session = new BankSession(gateway);
        await session.OpenAsync(Unique("owned"), new AccountOptions(10m, 0m));

        await session.DisposeAsync();
        await session.DisposeAsync();

        var ended = Assert.Single(gateway.RegistryRequests.OfType<OwnerEnded>());
        Assert.Equal(session.Owner, ended.Owner);
    }
}
