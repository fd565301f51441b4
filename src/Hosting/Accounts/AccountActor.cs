using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Configuration;

namespace Bank.Hosting.Accounts;

/// <summary>
/// One account, event-sourced. The rules live in <see cref="AccountState"/>; this actor checks the caller's incarnation,
/// persists what the state decides, replies, and snapshots every N events.
/// </summary>
public sealed class AccountActor : ReceivePersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _key;
    private readonly AccountSettings _settings;
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private readonly string _node;
    private AccountState _state = AccountState.Empty;
    private long _snapshotSequenceNr;
    private int _eventsReplayed;

    public AccountActor(string key, AccountSettings settings)
    {
        _key = key;
        _settings = settings;
        _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();
        PersistenceId = PersistenceIdFor(key);

        Recover<SnapshotOffer>(offer =>
        {
            // Replaying onto an empty state instead would silently lose the balance.
            _state = offer.Snapshot as AccountState ?? throw new InvalidOperationException(
                $"Snapshot of account {key} is a {offer.Snapshot.GetType().Name}, not an {nameof(AccountState)}");
            _snapshotSequenceNr = offer.Metadata.SequenceNr;
        });
        Recover<IAccountEvent>(evt =>
        {
            _state = _state.Apply(evt);
            _eventsReplayed++;
        });

        Command<AccountRequest>(Handle);
        Command<AccountProbe>(_ => Sender.Tell(new AccountRecoveryInfo(
            _key, _instanceId, LastSequenceNr, _snapshotSequenceNr, _eventsReplayed, _state.Status)));
        Command<SaveSnapshotSuccess>(success =>
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failure =>
            _log.Warning(failure.Cause, "Snapshot of account {Key} at {SequenceNr} failed; recovery replays more events",
                _key, failure.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failure =>
            _log.Info("Old snapshots of account {Key} were not deleted: {Reason}", _key, failure.Cause.Message));
    }

    public override string PersistenceId { get; }

    public static string PersistenceIdFor(string key) => BankConstants.AccountPersistenceIdPrefix + key;

    public static Props PropsFor(string key, AccountSettings settings) => Props.Create(() => new AccountActor(key, settings));

    private void Handle(AccountRequest request)
    {
        // Open starts an incarnation and close names the one it ends; every other call must come from the current one.
        if (request.Command is not (OpenAccount or CloseAccount) && _state.CheckCaller(request.Incarnation) is { } refusal)
        {
            Sender.Tell(Refuse(refusal));
            return;
        }

        var decision = _state.Decide(request.Command);
        if (decision.Violation is { } violation)
        {
            Sender.Tell(Rejected.Rule(violation));
            return;
        }

        if (decision.AlreadyApplied is { } balance)
        {
            // A retry of a call this account already applied: the caller gets what the first delivery returned.
            Sender.Tell(Reply() with { Balance = balance });
            return;
        }

        if (decision.Events.Count == 0)
        {
            Sender.Tell(Reply());
            return;
        }

        var sender = Sender;
        var last = decision.Events[^1];
        PersistAll(decision.Events, evt =>
        {
            _state = _state.Apply(evt);
            MaybeSnapshot();
            if (!ReferenceEquals(evt, last)) return;
            sender.Tell(Reply());
            // A closed incarnation has nothing left to do; the next call wakes the account from its journal.
            if (evt is AccountClosed)
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
    }

    private Rejected Refuse(RuleViolation refusal) => refusal == Rules.NotOpen
        ? new Rejected(ErrorKind.ActorNotFound, refusal.Code, $"no account with key '{_key}'")
        : new Rejected(ErrorKind.ActorDied, refusal.Code, $"this actor of account '{_key}' is dead: {refusal.Message}");

    private void MaybeSnapshot()
    {
        if (LastSequenceNr - _snapshotSequenceNr < _settings.SnapshotEvery) return;
        _snapshotSequenceNr = LastSequenceNr;
        SaveSnapshot(_state);
    }

    private AccountReply Reply() =>
        new(_key, _state.Incarnation, _state.Balance, _state.MinimalBalance, LastSequenceNr, _node);
}

/// <summary>Cluster Sharding routes account messages by their key; the shard is a hash of it.</summary>
public sealed class AccountMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    public override string? EntityId(object message) => message is IAccountEnvelope envelope ? envelope.Key : null;
}

public static class AccountHostingExtensions
{
    /// <summary>Starts the Account shard region on this node, registered as <see cref="AccountRegionKey"/>.</summary>
    public static AkkaConfigurationBuilder WithAccounts(this AkkaConfigurationBuilder builder, string? role = null)
    {
        return builder.WithShardRegion<AccountRegionKey>(
            BankConstants.AccountShardType,
            (system, _, _) =>
            {
                var settings = AccountSettings.From(system);
                return key => AccountActor.PropsFor(key, settings);
            },
            new AccountMessageExtractor(BankHocon.Defaults.GetInt("bank.accounts.number-of-shards", 100)),
            new ShardOptions { Role = role });
    }
}
