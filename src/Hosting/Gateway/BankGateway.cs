using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Registry;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The door for clients outside the cluster: registered with the ClusterClientReceptionist on every node, it passes
/// registry requests to the registry singleton and account calls to the shard region. Replies go straight back to the
/// client. Clients may only deposit, withdraw and read: opening and closing incarnations is the registry's business.
/// </summary>
public sealed class BankGateway : ReceiveActor
{
    private readonly IActorRef _registry;
    private readonly IActorRef _accounts;
    private readonly TimeSpan _timeout;

    public BankGateway(IActorRef registry, IActorRef accounts, TimeSpan timeout)
    {
        _registry = registry;
        _accounts = accounts;
        _timeout = timeout;

        Receive<AccountRequest>(request =>
        {
            if (request.Command is Deposit or Withdraw or GetBalance)
                _accounts.Forward(request);
            else
                Sender.Tell(new Rejected(ErrorKind.Usage, nameof(ErrorKind.Usage),
                    $"{request.Command.GetType().Name} goes through the registry, not straight to an account"));
        });
        Receive<OpenActor>(m => _registry.Forward(m));
        Receive<GetActor>(m => _registry.Forward(m));
        Receive<KillActor>(m => _registry.Forward(m));
        Receive<ListActors>(m => _registry.Forward(m));
        Receive<OwnerEnded>(m => _registry.Forward(m));
        Receive<OwnerHeartbeat>(m => _registry.Forward(m));
        Receive<GetHistory>(get =>
        {
            // Captured here: the async read below runs outside the actor's context.
            var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            ReadHistoryAsync(get.Name, journal, Context.System.Materializer()).PipeTo(Sender);
        });
    }

    public static Props PropsFor(IActorRef registry, IActorRef accounts, TimeSpan timeout) =>
        Props.Create(() => new BankGateway(registry, accounts, timeout));

    /// <summary>Finds the account behind the name in the registry, then reads its events from the journal.</summary>
    private async Task<object> ReadHistoryAsync(string name, SqlReadJournal journal, IMaterializer materializer)
    {
        var list = await _registry.Ask<object>(ListActors.Instance, _timeout);
        if (list is not ActorList actors) return list;
        var actor = actors.Actors.LastOrDefault(a => a.Name == name && a.State != ActorState.Dead)
                    ?? actors.Actors.LastOrDefault(a => a.Name == name);
        if (actor is null) return Rejected.NotFound(name);

        var events = await journal
            .CurrentEventsByPersistenceId(AccountActor.PersistenceIdFor(actor.Key), 0, long.MaxValue)
            .RunAggregate(new List<HistoryEntry>(), (all, envelope) =>
            {
                if (Describe(envelope) is { } entry) all.Add(entry);
                return all;
            }, materializer);
        return new History(name, actor.Key, events);
    }

    private static HistoryEntry? Describe(EventEnvelope envelope)
    {
        // Akka.Persistence.Sql stores the write time as UTC ticks.
        var at = new DateTimeOffset(envelope.Timestamp, TimeSpan.Zero);
        return envelope.Event switch
        {
            AccountOpened e => new HistoryEntry(envelope.SequenceNr, "opened", e.Balance, e.Balance, at),
            AccountReopened e => new HistoryEntry(envelope.SequenceNr, "reopened", null, e.Balance, at),
            Deposited e => new HistoryEntry(envelope.SequenceNr, "deposited", e.Amount, e.Balance, at),
            Withdrawn e => new HistoryEntry(envelope.SequenceNr, "withdrawn", e.Amount, e.Balance, at),
            AccountClosed e => new HistoryEntry(envelope.SequenceNr, "closed:" + e.Reason, null, e.Balance, at),
            _ => null,
        };
    }
}

public static class BankGatewayHostingExtensions
{
    /// <summary>Starts this node's gateway and offers it to ClusterClients through the receptionist.</summary>
    public static AkkaConfigurationBuilder WithGateway(this AkkaConfigurationBuilder builder) =>
        builder
            .WithClusterClientReceptionist()
            .WithActors((system, registry) =>
            {
                var timeout = system.Settings.Config.GetTimeSpan("bank.client.ask-timeout", TimeSpan.FromSeconds(15));
                var gateway = system.ActorOf(
                    BankGateway.PropsFor(registry.Get<NameRegistryKey>(), registry.Get<AccountRegionKey>(), timeout),
                    BankConstants.GatewayPath.TrimStart('/').Split('/')[^1]);
                ClusterClientReceptionist.Get(system).RegisterService(gateway);
            });
}
