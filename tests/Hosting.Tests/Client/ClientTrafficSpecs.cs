using Akka.Cluster;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// One door, one round trip (issue 15), counted on the wire (see <see cref="ClientTraffic"/>): a call by name through
/// BankClient, which is what `bank deposit NAME AMOUNT` makes, is one request from the client to the cluster and one reply;
/// so is a call on a handle; and a session that owns no actor neither beats nor says goodbye.
/// </summary>
public class ClientTrafficSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    /// <summary>Short, so that a heartbeat a session should not send would show within the second the specs watch.</summary>
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(200);

    private string Contact => $"127.0.0.1:{Cluster.Get(Sys).SelfAddress.Port}";

    public static TheoryData<string> Calls => ["deposit", "withdraw", "balance"];

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task A_call_by_name_through_the_cluster_client_is_one_request_and_one_reply(string call)
    {
        var name = Unique(call);
        await using var observer = Fixture.Cluster.NewSession();
        await observer.OpenAsync(name, new AccountOptions(100m, 0m));
        var traffic = new ClientTraffic();
        await using var client = await BankClient.ConnectAsync([Contact], traffic.Settings(HeartbeatInterval));

        decimal balance;
        await using (var session = client.OpenSession())
            balance = call switch
            {
                "deposit" => await session.DepositAsync(name, 5m),
                "withdraw" => await session.WithdrawAsync(name, 5m),
                _ => await session.BalanceAsync(name),
            };

        Assert.Equal(call switch { "deposit" => 105m, "withdraw" => 95m, _ => 100m }, balance);
        await Holds.ForAsync(TimeSpan.FromSeconds(1), () =>
        {
            var request = Assert.IsType<CorrelatedNamedAccountRequest>(Assert.Single(traffic.Sent));
            Assert.Equal((name, call), (request.Request.Name, CommandName(request.Request.Command)));
            var reply = Assert.IsType<CorrelatedAccountReply>(Assert.Single(traffic.Received));
            Assert.Equal((request.Id, balance), (reply.Id, reply.Reply?.Balance));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_call_on_a_handle_through_the_cluster_client_is_one_request_and_one_reply()
    {
        await using var observer = Fixture.Cluster.NewSession();
        var actor = await observer.OpenAsync(Unique("handle"), new AccountOptions(100m, 0m));
        var traffic = new ClientTraffic();
        await using var client = await BankClient.ConnectAsync([Contact], traffic.Settings(HeartbeatInterval));

        await using (var session = client.OpenSession())
            Assert.Equal(105m, await session.DepositAsync(actor, 5m));

        await Holds.ForAsync(TimeSpan.FromSeconds(1), () =>
        {
            var request = Assert.IsType<CorrelatedAccountRequest>(Assert.Single(traffic.Sent));
            Assert.Equal((actor.Key, actor.Id), (request.Request.Key, request.Request.Incarnation));
            Assert.Equal(request.Id, Assert.IsType<CorrelatedAccountReply>(Assert.Single(traffic.Received)).Id);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_session_that_owns_an_actor_beats_before_opening_it_and_ends_its_owner_when_disposed()
    {
        var traffic = new ClientTraffic();
        await using var client = await BankClient.ConnectAsync([Contact], traffic.Settings(HeartbeatInterval));
        var session = client.OpenSession();
        await session.OpenAsync(Unique("owned"), new AccountOptions(100m, 0m) { Detached = true });
        Assert.Equal([typeof(OpenActor)], traffic.Sent.Select(m => m.GetType()));

        await session.OpenAsync(Unique("owned"), new AccountOptions(100m, 0m));
        await AwaitAssertAsync(() => Assert.True(traffic.Sent.OfType<OwnerHeartbeat>().Count() >= 3), TimeSpan.FromSeconds(10));
        await session.DisposeAsync();

        var sent = traffic.Sent;
        Assert.Equal([typeof(OpenActor), typeof(OwnerHeartbeat), typeof(OpenActor)], sent.Take(3).Select(m => m.GetType()));
        Assert.All(sent.OfType<OwnerHeartbeat>(), beat => Assert.Equal(session.Owner, beat.Owner));
        Assert.Equal(session.Owner, Assert.IsType<OwnerEnded>(sent[^1]).Owner);
        // No more heartbeats once it has ended.
        await Holds.ForAsync(TimeSpan.FromSeconds(1), () =>
        {
            Assert.Equal(sent.Count, traffic.Sent.Count);
            return Task.CompletedTask;
        });
    }

    private static string CommandName(IAccountCommand command) => command switch
    {
        Deposit => "deposit",
        Withdraw => "withdraw",
        GetBalance => "balance",
        _ => command.GetType().Name,
    };
}
