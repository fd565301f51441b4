using Akka.Actor;
using Akka.Hosting;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Client;
using Xunit;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// A TestKit over the class's shared Bank node: a fresh TestActor per test in the node's actor system, which the
/// fixture, not the test, shuts down.
/// </summary>
public abstract class BankNodeSpec<TFixture> : TestKitBase, IClassFixture<TFixture>, IDisposable
    where TFixture : BankNodeFixture
{
    protected BankNodeSpec(TFixture fixture)
        : base(new XunitAssertions(), fixture.Node.System)
    {
        Fixture = fixture;
    }

    protected TFixture Fixture { get; }

    protected ActorRegistry ActorRegistry => Fixture.Node.Registry;

    protected IActorRef Accounts => ActorRegistry.Get<AccountRegionKey>();

    protected IActorRef NameRegistry => ActorRegistry.Get<NameRegistryKey>();

    protected BankSession NewSession() => new(NewGateway());

    /// <summary>The gateway a session of this node uses; a shorter <paramref name="timeout"/> suits polling.</summary>
    protected LocalGateway NewGateway(TimeSpan? timeout = null) =>
        new(Sys, NameRegistry, Accounts, timeout ?? Sys.Settings.Config.GetTimeSpan("bank.client.ask-timeout"));

    /// <summary>An account actor of its own, outside sharding, so a test can stop and start it at will.</summary>
    protected IActorRef StartAccount(string key) => Sys.ActorOf(AccountActor.PropsFor(key, AccountSettings.From(Sys)));

    /// <summary>Starts an account actor under a fresh key and opens it with a fresh incarnation.</summary>
    protected async Task<(IActorRef Account, string Key, string Incarnation)> OpenAccountActorAsync(
        string prefix, decimal balance, decimal minimalBalance = 0m)
    {
        var key = Unique(prefix);
        var incarnation = Unique("id");
        var account = StartAccount(key);
        await CallAsync(account, key, incarnation, new OpenAccount(balance, minimalBalance, incarnation));
        return (account, key, incarnation);
    }

    /// <summary>Sends a command to an account (a shard region or an account actor) and expects its success reply.</summary>
    protected async Task<AccountReply> CallAsync(IActorRef account, string key, string incarnation, IAccountCommand command)
    {
        account.Tell(new AccountRequest(key, incarnation, command), TestActor);
        return await ExpectMsgAsync<AccountReply>();
    }

    /// <summary>How the account's current instance recovered.</summary>
    protected async Task<AccountRecoveryInfo> ProbeAsync(IActorRef account, string key)
    {
        account.Tell(new AccountProbe(key), TestActor);
        return await ExpectMsgAsync<AccountRecoveryInfo>();
    }

    /// <summary>Stops an account actor and waits until it is gone.</summary>
    protected async Task StopAsync(IActorRef account)
    {
        Watch(account);
        account.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(account);
        Unwatch(account);
    }

    /// <summary>A name or key no other test in the class uses.</summary>
    protected static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public void Dispose()
    {
        Sys.Stop(TestActor);
        GC.SuppressFinalize(this);
    }
}
