using Akka.Actor;

namespace Bank.Hosting.StateStore;

/// <summary>This node's database (the journal's): where its persistence workers and the store's readers connect.</summary>
public sealed class BankDatabase : IExtension
{
    private BankPersistenceOptions? _options;

    public BankPersistenceOptions Options
    {
        get => _options ?? throw new InvalidOperationException("The node's database is not set: WithBankPersistence sets it");
        internal set => _options = value;
    }

    public static BankDatabase For(ActorSystem system) => system.WithExtension<BankDatabase, BankDatabaseProvider>();
}

public sealed class BankDatabaseProvider : ExtensionIdProvider<BankDatabase>
{
    public override BankDatabase CreateExtension(ExtendedActorSystem system) => new();
}
