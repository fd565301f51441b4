using Akka.Actor;

namespace Bank.Hosting.Accounts;

/// <summary>How many account instances run in this actor system now, for `bank status`.</summary>
public sealed class AccountInstances : IExtension
{
    private int _running;

    public int Running => Volatile.Read(ref _running);

    public static AccountInstances For(ActorSystem system) => system.WithExtension<AccountInstances, AccountInstancesProvider>();

    internal void Started() => Interlocked.Increment(ref _running);

    internal void Stopped() => Interlocked.Decrement(ref _running);
}

public sealed class AccountInstancesProvider : ExtensionIdProvider<AccountInstances>
{
    public override AccountInstances CreateExtension(ExtendedActorSystem system) => new();
}
