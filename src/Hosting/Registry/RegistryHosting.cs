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
    public static AkkaConfigurationBuilder WithNameRegistry(this AkkaConfigurationBuilder builder) =>
        builder.WithSingleton<NameRegistryKey>(
            BankConstants.RegistrySingletonName,
            (system, registry, _) => NameRegistry.SupervisedPropsFor(registry.Get<AccountRegionKey>(), RegistrySettings.From(system)),
            new ClusterSingletonOptions(),
            createProxyToo: true);
}
