using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Gateway;
using Bank.Hosting.Serialization;
using Xunit;

namespace Bank.Hosting.Tests.Gateway;

/// <summary>
/// A node's table of account calls: every call goes out from the node's one reply address under an id of its own and is
/// answered under that id; no temporary actor per call; silence ends in AskTimeoutException, as an ask would.
/// </summary>
public sealed class InFlightCallsSpecs() : TestKit(RemoteConfig)
{
    private static readonly Config RemoteConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.loglevel = WARNING
        """).WithFallback(BankSerializer.Bindings);

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static AccountRequest Deposit(string key, string requestId) => new(key, "inc-1", new Deposit(5m, requestId));

    private static AccountReply Reply(string key, decimal balance) => new(key, "inc-1", balance, 0m, 1, "here");

    [Fact]
    public async Task Every_call_goes_out_from_the_one_reply_address_and_its_answer_finds_its_caller_by_id()
    {
        var calls = InFlightCalls.For(Sys);
        var accounts = CreateTestProbe();

        var first = calls.CallAsync(accounts, Deposit("k1", "r-1"), Long);
        var firstSent = await accounts.ExpectMsgAsync<TrackedAccountRequest>();
        var replyAddress = accounts.LastSender;
        var second = calls.CallAsync(accounts, Deposit("k2", "r-2"), Long);
        var secondSent = await accounts.ExpectMsgAsync<TrackedAccountRequest>();

        Assert.Equal(replyAddress, accounts.LastSender);
        Assert.Equal("temp", replyAddress.Path.Parent.Name);
        Assert.NotEqual(firstSent.Id, secondSent.Id);
        Assert.Equal("k1", firstSent.Key);
        // Answered out of order: each answer goes to the call of its id.
        replyAddress.Tell(CorrelatedAccountReply.Of(secondSent.Id, Reply("k2", 20m)));
        replyAddress.Tell(CorrelatedAccountReply.Of(firstSent.Id, new Rejected(ErrorKind.RuleViolation, "Overdraft", "no")));

        Assert.Equal(20m, Assert.IsType<AccountReply>(await second.WaitAsync(Long)).Balance);
        Assert.Equal("Overdraft", Assert.IsType<Rejected>(await first.WaitAsync(Long)).Code);
        Assert.Equal(0, calls.Count);
    }

    [Fact]
    public async Task A_call_without_an_answer_fails_with_AskTimeoutException_and_a_late_answer_is_dropped()
    {
        var calls = InFlightCalls.For(Sys);
        var accounts = CreateTestProbe();

        var call = calls.CallAsync(accounts, Deposit("k1", "r-1"), TimeSpan.FromMilliseconds(300));
        var sent = await accounts.ExpectMsgAsync<TrackedAccountRequest>();

        var timedOut = await Assert.ThrowsAsync<AskTimeoutException>(() => call.WaitAsync(Long));
        Assert.Contains("account k1", timedOut.Message);
        Assert.Equal(0, calls.Count);
        accounts.LastSender.Tell(CorrelatedAccountReply.Of(sent.Id, Reply("k1", 5m)));
        Assert.Equal(0, calls.Count);
    }

    [Fact]
    public async Task A_cancelled_call_ends_cancelled_and_leaves_the_table()
    {
        var calls = InFlightCalls.For(Sys);
        var accounts = CreateTestProbe();
        using var cancel = new CancellationTokenSource();

        var call = calls.CallAsync(accounts, Deposit("k1", "r-1"), Long, cancel.Token);
        await accounts.ExpectMsgAsync<TrackedAccountRequest>();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Long));
        Assert.Equal(0, calls.Count);
    }

    [Fact]
    public async Task A_resend_sends_again_only_the_calls_safe_to_send_twice_under_their_own_ids_and_the_first_answer_wins()
    {
        var calls = InFlightCalls.For(Sys);
        var accounts = CreateTestProbe();
        var safe = calls.CallAsync(accounts, Deposit("k1", "r-1"), Long);
        var safeSent = await accounts.ExpectMsgAsync<TrackedAccountRequest>();
        // A deposit without a request id would be applied twice: never sent again.
        var unsafeCall = calls.CallAsync(accounts, new AccountRequest("k2", "inc-1", new Deposit(5m)), Long);
        var unsafeSent = await accounts.ExpectMsgAsync<TrackedAccountRequest>();

        Assert.Equal(1, calls.ResendAll());

        var again = await accounts.ExpectMsgAsync<TrackedAccountRequest>();
        var replyAddress = accounts.LastSender;
        Assert.Equal(safeSent, again);
        await accounts.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        replyAddress.Tell(CorrelatedAccountReply.Of(safeSent.Id, Reply("k1", 5m)));
        replyAddress.Tell(CorrelatedAccountReply.Of(safeSent.Id, Reply("k1", 999m)));
        replyAddress.Tell(CorrelatedAccountReply.Of(unsafeSent.Id, Reply("k2", 5m)));
        Assert.Equal(5m, Assert.IsType<AccountReply>(await safe.WaitAsync(Long)).Balance);
        Assert.Equal(5m, Assert.IsType<AccountReply>(await unsafeCall.WaitAsync(Long)).Balance);
    }

    [Fact]
    public async Task A_call_by_name_goes_to_the_gateway_under_its_id_and_is_never_sent_again_from_here()
    {
        var calls = InFlightCalls.For(Sys);
        var gateway = CreateTestProbe();

        var call = calls.CallByNameAsync(gateway, new NamedAccountRequest("Saver", GetBalance.Instance), Long);
        var sent = await gateway.ExpectMsgAsync<CorrelatedNamedAccountRequest>();
        var replyAddress = gateway.LastSender;

        Assert.Equal(0, calls.ResendAll());
        replyAddress.Tell(CorrelatedAccountReply.Of(sent.Id, Reply("k1", 7m)));
        Assert.Equal(7m, Assert.IsType<AccountReply>(await call.WaitAsync(Long)).Balance);
    }

    [Fact]
    public async Task An_account_on_another_node_answers_the_reply_address_over_the_wire()
    {
        var answer = await OnAnotherNodeAsync(Props.Create(() => new AnsweringAccount()),
            remote => InFlightCalls.For(Sys).CallAsync(remote, Deposit("k1", "r-1"), Long));

        Assert.Equal(105m, Assert.IsType<AccountReply>(answer).Balance);
    }

    [Fact]
    public async Task A_request_is_answered_at_a_reply_address_of_its_own_under_the_nodes_and_a_failure_fails_it()
    {
        var calls = InFlightCalls.For(Sys);
        var registry = CreateTestProbe();

        var found = calls.RequestAsync(registry, new GetActor("Saver"), Long);
        await registry.ExpectMsgAsync<GetActor>();
        var replyTo = registry.LastSender;
        var failed = calls.RequestAsync(registry, new GetActor("Gone"), Long);
        await registry.ExpectMsgAsync<GetActor>();
        var otherReplyTo = registry.LastSender;

        Assert.NotEqual(replyTo, otherReplyTo);
        Assert.Equal(replyTo.Path.Parent, otherReplyTo.Path.Parent);
        Assert.Equal("temp", replyTo.Path.Parent.Parent.Name);
        otherReplyTo.Tell(new Status.Failure(new InvalidOperationException("no registry")));
        replyTo.Tell(Rejected.NotFound("Saver"));
        Assert.Equal(ErrorKind.ActorNotFound, Assert.IsType<Rejected>(await found.WaitAsync(Long)).Kind);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(Long));
        Assert.Equal(0, calls.Count);
    }

    [Fact]
    public async Task An_actor_on_another_node_answers_a_requests_own_reply_address_over_the_wire()
    {
        var answers = await OnAnotherNodeAsync(Props.Create(() => new AnsweringRegistry()), remote => Task.WhenAll(
            InFlightCalls.For(Sys).RequestAsync(remote, new GetActor("Saver"), Long),
            InFlightCalls.For(Sys).RequestAsync(remote, new GetActor("Spender"), Long)));

        Assert.Equal(["no actor named 'Saver'", "no actor named 'Spender'"], answers.Cast<Rejected>().Select(r => r.Message));
    }

    /// <summary>Runs <paramref name="props"/> in an actor system of its own (another node) and calls it over the wire.</summary>
    private async Task<T> OnAnotherNodeAsync<T>(Props props, Func<IActorRef, Task<T>> call)
    {
        using var other = ActorSystem.Create("other", RemoteConfig);
        try
        {
            other.ActorOf(props, "answering");
            var address = ((ExtendedActorSystem)other).Provider.DefaultAddress;
            return await call(await Sys.ActorSelection(new RootActorPath(address) / "user" / "answering").ResolveOne(Long));
        }
        finally
        {
            await other.Terminate();
        }
    }

    /// <summary>Stands for the registry: answers its sender, knowing nothing of the caller's ids.</summary>
    private sealed class AnsweringRegistry : ReceiveActor
    {
        public AnsweringRegistry() => Receive<GetActor>(get => Sender.Tell(Rejected.NotFound(get.Name)));
    }

    /// <summary>Stands for an account's entity: answers a tracked call under its id, as AccountSupervisor does.</summary>
    private sealed class AnsweringAccount : ReceiveActor
    {
        public AnsweringAccount() =>
            Receive<TrackedAccountRequest>(call => Sender.Tell(CorrelatedAccountReply.Of(call.Id, Reply(call.Key, 105m))));
    }
}
