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
    /// <param name="clock">What pending waits are timed with (<see cref="PlacementSettings.Clock"/>); the system's by default.</param>
    public static AkkaConfigurationBuilder WithPlacement(this AkkaConfigurationBuilder builder, TimeProvider? clock = null) =>
        builder.WithSingleton<PlacementCoordinatorKey>(
            BankConstants.PlacementSingletonName,
            (system, _, _) => PlacementCoordinator.PropsFor(PlacementSettings.From(system) with { Clock = clock ?? TimeProvider.System }),
            new ClusterSingletonOptions(),
            createProxyToo: true);
}
