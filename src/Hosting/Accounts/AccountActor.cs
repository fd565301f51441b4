using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Accounts;

/// <summary>
/// One account, event-sourced. The rules live in <see cref="AccountState"/>; this actor checks the caller's incarnation,
/// persists what the state decides, replies, and snapshots every N events. In a node it runs under a BackoffSupervisor
/// inside an <see cref="AccountSupervisor"/>, which sends it <see cref="SupervisedCall"/>s; a bare
/// <see cref="AccountRequest"/> is answered to its sender.
/// <para>
/// An untyped actor: a node holds one per live account, and a ReceivePersistentActor would build a handler and a
/// delegate per message type in every instance.
/// </para>
/// </summary>
public sealed class AccountActor : UntypedPersistentActor
{
    private readonly string _key;
    private readonly AccountSettings _settings;
    private readonly IActorRef? _supervisor;
    // This instance among the account's incarnations and restarts (a struct: the string is made when asked).
    private readonly Guid _instanceId = Guid.NewGuid();
    private AccountState _state = AccountState.Empty;
    // While recovering: the events folded into mutable collections, made the state once recovery completes.
    private AccountReplay? _replay;
    private long _snapshotSequenceNr;
    private int _eventsReplayed;

    /// <param name="supervisor">The <see cref="AccountSupervisor"/> to tell when this instance has recovered, if any.</param>
    public AccountActor(string key, AccountSettings settings, IActorRef? supervisor = null)
    {
        _key = key;
        _settings = settings;
        _supervisor = supervisor;
        PersistenceId = PersistenceIdFor(key);
        _state = AccountState.Empty with { Retention = settings.Retention };
    }

    // Applied ids are kept by this clock, never the wall clock: a clock jump must not make an account forget or keep them.
    private TimeSpan Now => Context.System.Scheduler.MonotonicClock;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer:
                // Replaying onto an empty state instead would silently lose the balance.
                _state = (offer.Snapshot as AccountState ?? throw new InvalidOperationException(
                    $"Snapshot of account {_key} is a {offer.Snapshot.GetType().Name}, not an {nameof(AccountState)}")) with { Retention = _settings.Retention };
                _snapshotSequenceNr = offer.Metadata.SequenceNr;
                break;
            case IAccountEvent evt:
                (_replay ??= new AccountReplay(_state)).Apply(evt);
                _eventsReplayed++;
                break;
            case RecoveryCompleted:
                if (_replay is not null) _state = _replay.ToState();
                _replay = null;
                // Recovered ids count as applied now: kept the retention from here, never shorter.
                _state = _state.Recovered(Now, _settings.Retention);
                // The supervisor learns the incarnation's supervision from the journal; the BackoffSupervisor passes it
                // up. Told straight to the supervisor, before any command can crash this instance: it always learns of
                // a start first.
                _supervisor?.Tell(Started());
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case AccountRequest request:
                Handle(request, Sender, seq: null, crash: false);
                break;
            case SupervisedCall call:
                Handle(call.Request, Sender, call.Seq, call.Crash);
                break;
            case AccountProbe:
                Sender.Tell(new AccountRecoveryInfo(_key, InstanceId, LastSequenceNr, _snapshotSequenceNr, _eventsReplayed, _state.Status));
                break;
            case SaveSnapshotSuccess success:
                DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure failure:
                Log.Warning(failure.Cause, "Snapshot of account {Key} at {SequenceNr} failed; recovery replays more events",
                    _key, failure.Metadata.SequenceNr);
                break;
            case DeleteSnapshotsSuccess:
                break;
            case DeleteSnapshotsFailure failure:
                Log.Info("Old snapshots of account {Key} were not deleted: {Reason}", _key, failure.Cause.Message);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private string InstanceId => _instanceId.ToString("N");

    public override string PersistenceId { get; }

    protected override void PreStart()
    {
        AccountInstances.For(Context.System).Started();
        base.PreStart();
    }

    protected override void PostStop()
    {
        AccountInstances.For(Context.System).Stopped();
        base.PostStop();
    }

    public static string PersistenceIdFor(string key) => BankConstants.AccountPersistenceIdPrefix + key;

    public static Props PropsFor(string key, AccountSettings settings, IActorRef? supervisor = null) =>
        settings.PropsOf<AccountActor>(key, settings, supervisor);

    private void Handle(AccountRequest request, IActorRef sender, long? seq, bool crash)
    {
        void Answer(object reply)
        {
            // Injected faults strike after the work is done and before the answer leaves, the worst moment for a retry.
            if (crash) throw new InjectedCrash(_key);
            sender.Tell(seq is { } s ? SupervisedAnswer.For(s, reply) : reply);
        }

        // Open starts an incarnation, close names the one it ends, a refund is owed to any; the rest need the current one.
        if (request.Command is not (OpenAccount or CloseAccount or Refund or RecordRestarts or FindApplied or ReleaseRequests)
            && _state.CheckCaller(request.Incarnation) is { } refusal)
        {
            Answer(Refuse(refusal));
            return;
        }

        _state = _state.At(Now);
        var decision = _state.Decide(request.Command);
        if (decision.Violation is { } violation)
        {
            // A rule violation is an answer, never a failure: it does not restart the actor or use up its restarts.
            Answer(Rejected.Rule(violation));
            return;
        }

        if (decision.AlreadyApplied is { } balance)
        {
            // A retry of a call this account already applied: the caller gets what the first delivery returned.
            Answer(Reply() with { Balance = balance });
            return;
        }

        if (decision.Events.Count == 0)
        {
            Answer(Reply());
            return;
        }

        var last = decision.Events[^1];
        PersistAll(decision.Events, evt =>
        {
            _state = _state.Apply(evt);
            MaybeSnapshot();
            // A new incarnation brings its own supervision and resources; the supervisor must know them before the next crash.
            if (evt is AccountOpened or AccountReopened)
                _supervisor?.Tell(Started());
            if (!ReferenceEquals(evt, last)) return;
            Answer(Reply());
            // A closed incarnation has nothing left to do; the next call wakes the account from its journal.
            if (evt is AccountClosed)
            {
                if (_supervisor is null) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                else _supervisor.Tell(new AccountInstanceDone(_key));
            }
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

    private AccountStarted Started() =>
        new(_state.Incarnation, _state.Supervision, _state.Restarts, _settings.Node, _state.Resources);

    private AccountReply Reply() =>
        new(_key, _state.Incarnation, _state.Balance, _state.MinimalBalance, LastSequenceNr, _settings.Node, _state.Restarts);
}
