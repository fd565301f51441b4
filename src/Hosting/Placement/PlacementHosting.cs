using Akka.Cluster.Hosting;
using Akka.Hosting;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Placement;

public static class PlacementHostingExtensions
{
    /// <summary>
    /// Runs the placement coordinator as a cluster singleton (on the oldest node, beside the registry) and registers its
    /// proxy as <see cref="PlacementCoordinatorKey"/> on every node; the registry passes it the accounts' questions.
    /// </summary>
    public static AkkaConfigurationBuilder WithPlacement(this AkkaConfigurationBuilder builder) =>
        builder.WithSingleton<PlacementCoordinatorKey>(
            BankConstants.PlacementSingletonName,
            (system, _, _) => PlacementCoordinator.PropsFor(PlacementSettings.From(system)),
            new ClusterSingletonOptions(),
            createProxyToo: true);
}
