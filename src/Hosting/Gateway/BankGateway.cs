using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;
using Bank.Hosting.StateStore;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The door for client calls: registered with the ClusterClientReceptionist on every node, and asked by in-process
/// sessions too. It passes registry requests to the registry singleton, transfers to their sagas and inspection to the
/// inspector, and calls accounts through the shard region, by incarnation or by name (see BankGateway.AccountCalls.cs).
/// Replies go straight back to the client. What a client may ask of an account is <see cref="ClientCallPolicy"/>'s.
/// </summary>
public sealed partial class BankGateway : ReceiveActor, IWithTimers
{
    private readonly IActorRef _registry;
    private readonly IActorRef _accounts;
    private readonly TimeSpan _timeout;
    private readonly Action _killNode;
    private readonly bool _faultInjection;
    private readonly Address _self;

    public BankGateway(IActorRef registry, IActorRef accounts, IActorRef transfers, IActorRef inspector, TimeSpan timeout, Action killNode)
    {
        _registry = registry;
        _accounts = accounts;
        _timeout = timeout;
        _killNode = killNode;
        _faultInjection = AccountSettings.From(Context.System).AllowFaultInjection;
        _self = Cluster.Get(Context.System).SelfAddress;

        ReceiveAccountCalls();
        // Opens and kills are answered here, not forwarded, so that their outcomes are counted (BankMetrics.Calls).
        Receive<OpenActor>(open =>
        {
            if (ClientCallPolicy.IdRefusal(open) is { } badId) Refuse(open, badId);
            else AnswerWhenAnswered(_registry, open, Sender, Patience.For(open, _timeout, Context.System));
        });
        Receive<GetActor>(m => _registry.Forward(m));
        Receive<KillActor>(kill =>
        {
            if (ClientCallPolicy.IdRefusal(kill) is { } badId)
            {
                Refuse(kill, badId);
                return;
            }

            _names.Forget(kill.Name);
            AnswerWhenAnswered(_registry, kill, Sender, _timeout);
        });
        Receive<ListActors>(m => _registry.Forward(m));
        Receive<OwnerEnded>(m => _registry.Forward(m));
        Receive<OwnerHeartbeat>(m => _registry.Forward(m));
        Receive<TransferMoney>(transfer =>
        {
            if (ClientCallPolicy.IdRefusal(transfer) is { } badId) Refuse(transfer, badId);
            else AnswerWhenAnswered(transfers, transfer, Sender, _timeout);
        });
        Receive<GetClusterView>(m => inspector.Forward(m));
        Receive<ChangeMembership>(m => inspector.Forward(m));
        Receive<GetMembershipEvents>(m => inspector.Forward(m));
        Receive<GetShards>(m => inspector.Forward(m));
        Receive<GetActorTree>(m => inspector.Forward(m));
        Receive<GetClusterStatus>(m => inspector.Forward(m));
        Receive<CrashActor>(Crash);
        Receive<GetStateStoreProgress>(m => StateStore().Forward(m));
        Receive<CrashOnNextBatch>(m =>
        {
            if (_faultInjection) StateStore().Forward(m);
            else Sender.Tell(FaultInjection.Refused(_self.ToString()));
        });
        Receive<GetStoredAccounts>(get =>
        {
            // Read on this node, straight from the database: no account is woken for it.
            var store = new AccountStateStore(BankDatabase.For(Context.System).Options);
            ReadStoredAsync().PipeTo(Sender);

            async Task<StoredAccounts> ReadStoredAsync()
            {
                var offset = await store.ReadOffsetAsync(StateStoreFeeder.Projection);
                var rows = await store.ReadAsync(get.Keys);
                var head = await store.JournalHeadAsync();
                return new StoredAccounts(rows, Math.Max(0, head - offset));
            }
        });
        Receive<KillNode>(Kill);
        ReceiveFailover();
        Receive<GetHistory>(get =>
        {
            // Captured here: the async read below runs outside the actor's context.
            var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            ReadHistoryAsync(get, journal, Context.System.Materializer()).PipeTo(Sender);
        });
    }

    public static Props PropsFor(IActorRef registry, IActorRef accounts, IActorRef transfers, IActorRef inspector, TimeSpan timeout,
        Action killNode) =>
        Props.Create(() => new BankGateway(registry, accounts, transfers, inspector, timeout, killNode));

    /// <summary>This node's state store, for its progress and for fault injection into its workers.</summary>
    private static IActorRef StateStore() => ActorRegistry.For(Context.System).Get<StateStoreKey>();

    /// <summary>Finds the live actor behind the name, then tells its account to crash on its next calls.</summary>
    private void Crash(CrashActor crash)
    {
        if (!_faultInjection)
        {
            Sender.Tell(FaultInjection.Refused(_self.ToString()));
            return;
        }

        var (registry, accounts, timeout) = (_registry, _accounts, _timeout);
        CrashAsync().PipeTo(Sender);

        async Task<object> CrashAsync()
        {
            var found = await registry.Ask<object>(new GetActor(crash.Name), timeout);
            if (found is not ActorInfo actor) return found;
            return await accounts.Ask<object>(new InjectCrash(actor.Key, actor.Id, crash.Times), timeout);
        }
    }

    /// <summary>Kills this node's process if it is the one named, else passes the request to that node's gateway.</summary>
    private void Kill(KillNode kill)
    {
        if (!_faultInjection)
        {
            Sender.Tell(FaultInjection.Refused(_self.ToString()));
            return;
        }

        if (Inspector.ParseAddress(kill.Address, _self.Protocol) is not { } target)
        {
            Sender.Tell(new Rejected(ErrorKind.Usage, "BadAddress",
                $"'{TextEcho.OneLine(kill.Address)}' is not a node address: use HOST:PORT, as `bank cluster show` or `bank list` print it"));
            return;
        }

        if (target.Equals(_self))
        {
            Sender.Tell(new NodeKilled(kill.Address));
            // Long enough for the answer to leave; then the process dies without leaving the cluster, like kill -9.
            Context.System.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(300), _killNode);
            return;
        }

        if (!Cluster.Get(Context.System).State.Members.Any(m => m.Address.Equals(target)))
        {
            Sender.Tell(new Rejected(ErrorKind.ActorNotFound, "NoSuchNode", $"no node at {kill.Address} in the cluster"));
            return;
        }

        Context.ActorSelection(new RootActorPath(target) / "user" / BankConstants.GatewayPath.Split('/')[^1])
            .Ask<object>(kill, _timeout)
            .PipeTo(Sender, failure: e => new Rejected(ErrorKind.ClusterUnreachable, "Timeout",
                $"the node at {kill.Address} did not answer: {e.Message}"));
    }

    /// <summary>
    /// Finds the account behind the name in the registry, then reads one page of its events from the journal: only the
    /// asked ones (and one more, to know whether more remain), not the whole history.
    /// </summary>
    private async Task<object> ReadHistoryAsync(GetHistory get, SqlReadJournal journal, IMaterializer materializer)
    {
        var found = await _registry.Ask<object>(new GetActor(get.Name, OrLatestDead: true), _timeout);
        if (found is not ActorInfo actor) return found;

        var limit = Pages.Limit(get.Limit);
        var entries = await journal
            .CurrentEventsByPersistenceId(AccountActor.PersistenceIdFor(actor.Key), Math.Max(0, get.After) + 1, long.MaxValue)
            // A stream may not carry null: events a history does not show pass as a marker, described once, then dropped.
            .Select(envelope => Describe(envelope) ?? NotShown)
            .Where(entry => !ReferenceEquals(entry, NotShown))
            .Take(limit + 1)
            .RunAggregate(new List<HistoryEntry>(), (all, entry) =>
            {
                all.Add(entry);
                return all;
            }, materializer);
        var (page, more) = Pages.Take(entries, limit);
        return new History(get.Name, actor.Key, page, more ? page[^1].Seq : null);
    }

    private static readonly HistoryEntry NotShown = new(0, "", null, 0m, default);

    private static HistoryEntry? Describe(EventEnvelope envelope)
    {
        // Akka.Persistence.Sql stores the write time as UTC ticks.
        var at = new DateTimeOffset(envelope.Timestamp, TimeSpan.Zero);
        return envelope.Event switch
        {
            AccountOpened e => new HistoryEntry(envelope.SequenceNr, "opened", e.Balance, e.Balance, at),
            AccountReopened e => new HistoryEntry(envelope.SequenceNr, "reopened", null, e.Balance, at),
            // A client's request id as the client chose it; internal ids (transfer steps) as they are.
            Deposited e => new HistoryEntry(envelope.SequenceNr, "deposited", e.Amount, e.Balance, at, ClientIds.Unscope(e.RequestId)),
            Withdrawn e => new HistoryEntry(envelope.SequenceNr, "withdrawn", e.Amount, e.Balance, at, ClientIds.Unscope(e.RequestId)),
            AccountRestarted e => new HistoryEntry(envelope.SequenceNr, "restarted", null, 0m, at),
            AccountClosed e => new HistoryEntry(envelope.SequenceNr, "closed:" + e.Reason, null, e.Balance, at),
            _ => null,
        };
    }
}

public static class BankGatewayHostingExtensions
{
    /// <summary>Starts this node's gateway and offers it to ClusterClients through the receptionist.</summary>
    /// <param name="killNode">What `bank chaos kill-node` does to this node; by default its process dies at once.</param>
    public static AkkaConfigurationBuilder WithGateway(this AkkaConfigurationBuilder builder, Action? killNode = null) =>
        builder
            .WithClusterClientReceptionist()
            .WithActors((system, registry) =>
            {
                var timeout = system.Settings.Config.GetTimeSpan("bank.client.ask-timeout", TimeSpan.FromSeconds(15));
                var gateway = system.ActorOf(
                    BankGateway.PropsFor(registry.Get<NameRegistryKey>(), registry.Get<AccountRegionKey>(),
                        registry.Get<TransferRegionKey>(), registry.Get<InspectorKey>(), timeout, killNode ?? KillThisProcess),
                    BankConstants.GatewayPath.TrimStart('/').Split('/')[^1]);
                ClusterClientReceptionist.Get(system).RegisterService(gateway);
            });

    /// <summary>SIGKILL to this process: no graceful leave, exactly what `kill -9` does.</summary>
    private static void KillThisProcess() => System.Diagnostics.Process.GetCurrentProcess().Kill();
}
