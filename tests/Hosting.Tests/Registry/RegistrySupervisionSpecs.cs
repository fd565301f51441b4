using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// The registry runs under a backoff supervisor: when it stops (its journal failed, or anything else), it comes back
/// and recovers its table of names from the journal. This node's backoff is 100-200 ms.
/// </summary>
public class RegistrySupervisionSpecs(FastRegistryRestartFixture fixture) : BankNodeSpec<FastRegistryRestartFixture>(fixture)
{
    [Fact]
    public void Registry_backoff_comes_from_the_node_configuration()
    {
        var settings = RegistrySettings.From(Sys);

        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.MinBackoff);
        Assert.Equal(TimeSpan.FromMilliseconds(200), settings.MaxBackoff);
    }

    [Fact]
    public async Task A_stopped_registry_comes_back_and_finds_a_detached_actor_opened_before_it_stopped()
    {
        await using var session = NewSession();
        var name = Unique("survivor");
        var opened = await session.OpenAsync(name, new AccountOptions(10m, 0m) { Detached = true });
        var registry = await RegistryChildAsync();
        Watch(registry);

        registry.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(registry);

        // While the registry is down its supervisor drops requests: each try waits half a second, not the client's 15 s.
        await using var polling = new BankSession(NewGateway(TimeSpan.FromMilliseconds(500)));
        await AwaitAssertAsync(async () =>
        {
            var found = await polling.GetActorAsync(name);
            Assert.Equal(opened.Id, found.Id);
            Assert.Equal(ActorState.Alive, found.State);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.NotEqual(registry, await RegistryChildAsync());
        Assert.Equal(15m, await session.DepositAsync(opened, 5m));
        Unwatch(registry);
    }

    /// <summary>The persistent registry itself: the child named "registry" of the supervisor the node registers.</summary>
    private async Task<IActorRef> RegistryChildAsync()
    {
        // The registry runs as a cluster singleton: manager /user/name-registry, singleton (its backoff supervisor)
        // name-registry inside it, and the registry itself as the supervisor's child.
        Sys.ActorSelection("/user/name-registry/name-registry/registry").Tell(new Identify("registry"), TestActor);
        var identity = await ExpectMsgAsync<ActorIdentity>();
        return identity.Subject ?? throw new InvalidOperationException($"no actor at {NameRegistry.Path / "registry"}");
    }
}
