using Akka.Cluster.Hosting;
using Akka.Hosting;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

public static class NameRegistryHostingExtensions
{
    /// <summary>
    /// Runs the registry of named actors as a cluster singleton (on the oldest node) and registers its proxy as
    /// <see cref="NameRegistryKey"/> on every node.
    /// </summary>
    /// <param name="clock">What owners' liveness is timed with (<see cref="RegistrySettings.Clock"/>); the system's by default.</param>
    public static AkkaConfigurationBuilder WithNameRegistry(this AkkaConfigurationBuilder builder, TimeProvider? clock = null) =>
        builder.WithSingleton<NameRegistryKey>(
            BankConstants.RegistrySingletonName,
            (system, registry, _) => NameRegistry.SupervisedPropsFor(registry.Get<AccountRegionKey>(),
                RegistrySettings.From(system) with { Clock = clock ?? TimeProvider.System }),
            new ClusterSingletonOptions(),
            createProxyToo: true);
}
