using Akka.Actor;

namespace Bank.Hosting.Accounts;

/// <summary>Tunables of the Account entities, read from <c>bank.accounts</c> in hocon/bank.hocon.</summary>
public sealed record AccountSettings(int SnapshotEvery, TimeSpan AskTimeout)
{
    public static AccountSettings From(ActorSystem system)
    {
        var config = system.Settings.Config.GetConfig("bank.accounts");
        return new AccountSettings(
            SnapshotEvery: Math.Max(1, config.GetInt("snapshot-every", 100)),
            AskTimeout: config.GetTimeSpan("ask-timeout", TimeSpan.FromSeconds(10)));
    }
}
