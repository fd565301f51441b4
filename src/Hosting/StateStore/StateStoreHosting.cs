using Akka.Cluster.Hosting;
using Akka.Hosting;

namespace Bank.Hosting.StateStore;

/// <summary>ActorRegistry key of the state store's feeder (a cluster singleton; this is its proxy).</summary>
public sealed class StateStoreKey;

public static class StateStoreHostingExtensions
{
    /// <summary>
    /// Runs the state store's feeder as a cluster singleton, with its round-robin pool of persistence workers, unless
    /// <c>bank.state-store.enabled</c> is off; every node gets the proxy, registered as <see cref="StateStoreKey"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithStateStore(this AkkaConfigurationBuilder builder, BankPersistenceOptions database) =>
        builder
            .AddStartup((system, _) => BankDatabase.For(system).Options = database)
            .WithSingleton<StateStoreKey>(
                "state-store",
                (system, _, _) => StateStoreSettings.From(system) is { Enabled: true } settings
                    ? StateStoreFeeder.SupervisedPropsFor(settings, database)
                    : Akka.Actor.Props.Empty,
                new ClusterSingletonOptions(),
                createProxyToo: true);
}
