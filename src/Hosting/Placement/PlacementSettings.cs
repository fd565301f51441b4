using Akka.Actor;

namespace Bank.Hosting.Placement;

/// <summary>Tunables of placement, read from <c>bank.resources</c> and <c>bank.accounts</c> in hocon/bank.hocon.</summary>
public sealed record PlacementSettings(TimeSpan PendingTimeout, TimeSpan AskTimeout)
{
    /// <summary>What pending waits are timed with: its monotonic timestamps, never its wall clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static PlacementSettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new PlacementSettings(
            PendingTimeout: config.GetTimeSpan("bank.resources.pending-timeout", TimeSpan.FromSeconds(30)),
            AskTimeout: config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)));
    }
}
