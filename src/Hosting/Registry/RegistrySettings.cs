using Akka.Actor;

namespace Bank.Hosting.Registry;

/// <summary>Tunables of the registry, read from <c>bank.registry</c>, <c>bank.accounts</c> and <c>bank.client</c> in hocon/bank.hocon.</summary>
public sealed record RegistrySettings(
    int SnapshotEvery,
    int KeepDead,
    TimeSpan AskTimeout,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    TimeSpan HeartbeatInterval,
    TimeSpan OwnerTimeout)
{
    /// <summary>What owners' liveness and restart displays are timed with: its monotonic timestamps, never its wall clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static RegistrySettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new RegistrySettings(
            SnapshotEvery: Math.Max(1, config.GetInt("bank.registry.snapshot-every", 100)),
            KeepDead: Math.Max(0, config.GetInt("bank.registry.keep-dead", 1000)),
            AskTimeout: config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)),
            MinBackoff: config.GetTimeSpan("bank.registry.min-backoff", TimeSpan.FromSeconds(1)),
            MaxBackoff: config.GetTimeSpan("bank.registry.max-backoff", TimeSpan.FromSeconds(10)),
            HeartbeatInterval: config.GetTimeSpan("bank.client.heartbeat-interval", TimeSpan.FromSeconds(2)),
            OwnerTimeout: config.GetTimeSpan("bank.client.owner-timeout", TimeSpan.FromSeconds(10)));
    }
}
