using Akka.Actor;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Accounts;

/// <summary>How many account instances run in this actor system now, for `bank status` and the gauge bank.accounts.live.</summary>
public sealed class AccountInstances : IExtension
{
    private readonly NodeFigures _figures;

    internal AccountInstances(NodeFigures figures) => _figures = figures;

    public int Running => (int)_figures.LiveAccounts;

    public static AccountInstances For(ActorSystem system) => system.WithExtension<AccountInstances, AccountInstancesProvider>();

    internal void Started() => _figures.AccountStarted();

    internal void Stopped() => _figures.AccountStopped();
}

public sealed class AccountInstancesProvider : ExtensionIdProvider<AccountInstances>
{
    public override AccountInstances CreateExtension(ExtendedActorSystem system) => new(NodeFigures.For(system));
}
