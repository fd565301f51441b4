using Akka.Cluster;
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
    /// <summary>Every way a client call reaches an account: in-process or through ClusterClient, by handle or by name.</summary>
    public static TheoryData<string, string> IncarnationCommandsOnEveryPath => new()
    {
        { "open", "in-process by handle" }, { "close", "in-process by handle" },
        { "open", "in-process by name" }, { "close", "in-process by name" },
        { "open", "cluster client by handle" }, { "close", "cluster client by handle" },
        { "open", "cluster client by name" }, { "close", "cluster client by name" },
    };

    [Theory]
    [MemberData(nameof(IncarnationCommandsOnEveryPath))]
    public async Task Gateway_refuses_to_send_an_open_or_a_close_straight_to_an_account(string command, string path)
    {
        await using var session = NewSession();
        var actor = await session.OpenAsync(Unique("direct"), new AccountOptions(10m, 0m));
        var thief = Unique("id");
        IAccountCommand call = command == "open" ? new OpenAccount(10m, 0m, thief) : new CloseAccount(DeathCauses.Killed, actor.Id);
        await using var client = path.StartsWith("cluster client", StringComparison.Ordinal)
            ? await BankClient.ConnectAsync([$"127.0.0.1:{Cluster.Get(Sys).SelfAddress.Port}"])
            : null;
        IBankGateway gateway = client?.Gateway ?? NewGateway();

        var answer = path.EndsWith("by name", StringComparison.Ordinal)
            ? await gateway.CallAccountAsync(new NamedAccountRequest(actor.Name, call))
            : await gateway.CallAccountAsync(new AccountRequest(actor.Key, command == "open" ? thief : actor.Id, call));

        var refused = Assert.IsType<Rejected>(answer);
        Assert.Equal(ErrorKind.Usage, refused.Kind);
        Assert.Equal($"{call.GetType().Name} goes through the registry, not straight to an account", refused.Message);
        Assert.Equal(15m, await session.DepositAsync(actor, 5m));
        Assert.Equal(actor.Id, (await session.GetActorAsync(actor.Name)).Id);
    }

    [Fact]
    public async Task Gateway_passes_deposits_withdrawals_and_balance_calls_to_the_account()
    {
        await using var session = NewSession();
        var actor = await session.OpenAsync(Unique("direct"), new AccountOptions(10m, 0m));
        var gateway = NewGateway();

        var deposited = await gateway.CallAccountAsync(new AccountRequest(actor.Key, actor.Id, new Deposit(5m)));
        var withdrawn = await gateway.CallAccountAsync(new AccountRequest(actor.Key, actor.Id, new Withdraw(3m)));
        var balance = await gateway.CallAccountAsync(new AccountRequest(actor.Key, actor.Id, GetBalance.Instance));

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

        var ended = Assert.Single(gateway.Requests.OfType<OwnerEnded>());
        Assert.Equal(session.Owner, ended.Owner);
        Assert.Equal([session.Owner], gateway.KeptAlive);
    }

    [Fact]
    public async Task A_session_that_owns_no_actor_ends_without_a_word_to_the_cluster()
    {
        await using var observer = NewSession();
        var actor = await observer.OpenAsync(Unique("someone-elses"), new AccountOptions(10m, 0m));
        var gateway = new RecordingGateway(NewGateway());
        var session = new BankSession(gateway);
        var detached = await session.OpenAsync(Unique("detached"), new AccountOptions(10m, 0m) { Detached = true });

        await session.DepositAsync(actor.Name, 1m);
        await session.DepositAsync(detached, 1m);
        await session.DisposeAsync();

        Assert.Empty(gateway.KeptAlive);
        Assert.Equal([typeof(OpenActor), typeof(NamedAccountRequest), typeof(AccountRequest)], gateway.Sent.Select(m => m.GetType()));
    }

    [Fact]
    public async Task A_call_by_name_in_process_is_one_request_to_the_nodes_gateway()
    {
        await using var observer = NewSession();
        var actor = await observer.OpenAsync(Unique("by-name"), new AccountOptions(10m, 0m));
        var gateway = new RecordingGateway(NewGateway());

        await using (var session = new BankSession(gateway))
        {
            Assert.Equal(15m, await session.DepositAsync(actor.Name, 5m));
            Assert.Equal(12m, await session.WithdrawAsync(actor.Name, 3m));
            Assert.Equal(12m, await session.BalanceAsync(actor.Name));
        }

        Assert.Equal(
            [typeof(Deposit), typeof(Withdraw), typeof(GetBalance)],
            gateway.Sent.Select(m => Assert.IsType<NamedAccountRequest>(m).Command.GetType()));
    }
}
