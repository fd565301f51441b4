using Akka.Actor;

namespace Bank.Hosting.Accounts;

/// <summary>Tunables of the Account entities, read from <c>bank.accounts</c>, <c>bank.resources</c> and <c>bank.chaos</c> in hocon/bank.hocon.</summary>
public sealed record AccountSettings(
    int SnapshotEvery,
    TimeSpan AskTimeout,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    double RandomFactor,
    bool AllowFaultInjection,
    TimeSpan PendingTimeout)
{
    public static AccountSettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new AccountSettings(
            SnapshotEvery: Math.Max(1, config.GetInt("bank.accounts.snapshot-every", 100)),
            AskTimeout: config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)),
            MinBackoff: config.GetTimeSpan("bank.accounts.supervision.min-backoff", TimeSpan.FromMilliseconds(200)),
            MaxBackoff: config.GetTimeSpan("bank.accounts.supervision.max-backoff", TimeSpan.FromSeconds(5)),
            RandomFactor: config.GetDouble("bank.accounts.supervision.random-factor", 0.2),
            AllowFaultInjection: config.GetBoolean("bank.chaos.allow-fault-injection", false),
            PendingTimeout: config.GetTimeSpan("bank.resources.pending-timeout", TimeSpan.FromSeconds(30)));
    }
}
