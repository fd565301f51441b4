using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Configuration;
using Bank.Hosting.Contracts;
using Bank.Hosting.Gateway;
using Bank.Hosting.Sharding;

namespace Bank.Hosting.Transfers;

/// <summary>
/// One transfer, as a saga that journals its progress: withdraw from the source, deposit to the target, and if the
/// target refuses, refund the source. Each step is an account call with a request id derived from the transfer id,
/// so a step resent after a timeout or a crash is applied once. Sharded with remember-entities: a saga on a node that
/// dies is started again on another node and carries on from its journal, even if no caller asks again.
/// </summary>
public sealed class TransferSaga : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _accounts;
    private readonly TransferSettings _settings;
    private readonly List<IActorRef> _waiters = [];
    private TransferStarted? _started;
    private decimal? _fromBalance;
    private Rejected? _reverting;
    private object? _outcome;
    // Why the current step's account cannot answer it: its journal is asked whether it applied the step.
    private Rejected? _unsure;
    private int _attempt;

    public TransferSaga(string transferId, IActorRef accounts, TransferSettings settings)
    {
        TransferId = transferId;
        _accounts = accounts;
        _settings = settings;
        PersistenceId = PersistenceIdFor(transferId);

        Recover<IBankMessage>(Apply);
        Recover<RecoveryCompleted>(_ => Continue());

        Command<TransferMoney>(Start);
        Command<StepResult>(Stepped);
        Command<RetryStep>(_ => Continue());
    }

    public string TransferId { get; }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static string PersistenceIdFor(string transferId) => "transfer-" + transferId;

    public static Props PropsFor(string transferId, IActorRef accounts, TransferSettings settings) =>
        Props.Create(() => new TransferSaga(transferId, accounts, settings));

    private void Start(TransferMoney transfer)
    {
        if (_started is { } started && !IsSameTransfer(started, transfer))
        {
            // The id names one transfer; reusing it for another (other amount, parties or incarnations) would answer with
            // an outcome that is not this one's.
            Sender.Tell(new Rejected(ErrorKind.Usage, "TransferIdInUse",
                $"transfer id '{TransferId}' was used for another transfer ({Money.Format(started.Amount)} from '{started.From.Name}' to '{started.To.Name}')"));
            return;
        }

        if (_outcome is not null)
        {
            Sender.Tell(_outcome);
            return;
        }

        _waiters.Add(Sender);
        if (_started is not null) return;
        Persist(new TransferStarted(transfer.From, transfer.To, transfer.Amount), evt =>
        {
            Apply(evt);
            Continue();
        });
    }

    private static bool IsSameTransfer(TransferStarted started, TransferMoney transfer) =>
        (started.From.Key, started.From.Id, started.To.Key, started.To.Id, started.Amount)
        == (transfer.From.Key, transfer.From.Id, transfer.To.Key, transfer.To.Id, transfer.Amount);

    private void Apply(IBankMessage evt)
    {
        switch (evt)
        {
            case TransferStarted started:
                _started = started;
                break;
            case TransferDebited debited:
                _fromBalance = debited.FromBalance;
                break;
            case TransferCredited credited:
                _outcome = new Transferred(TransferId, _started!.From.Name, _started.To.Name, _started.Amount, _fromBalance!.Value, credited.ToBalance);
                break;
            case TransferRefused refused:
                _outcome = refused.Reason;
                break;
            case TransferReverting reverting:
                _reverting = reverting.Reason;
                break;
            case TransferReverted:
                _outcome = _reverting;
                break;
        }
    }

    /// <summary>Takes the next step from where the journal says the saga is, or answers and stops when it is over.</summary>
    private void Continue()
    {
        if (_outcome is not null)
        {
            Finish();
            return;
        }

        if (_started is not { } t) return;
        var (party, command) = (_fromBalance, _reverting, _unsure) switch
        {
            // The account that answered a step died with the answer: did it apply the step before it died?
            (null, _, { }) => (t.From, (IAccountCommand)new FindApplied(StepId("withdraw"))),
            (_, null, { }) => (t.To, new FindApplied(StepId("deposit"))),
            (null, _, _) => (t.From, new Withdraw(t.Amount, StepId("withdraw"))),
            (_, null, _) => (t.To, new Deposit(t.Amount, StepId("deposit"))),
            _ => (t.From, new Refund(t.Amount, StepId("refund"))),
        };
        var step = ++_attempt;
        // In flight on this node's table: if the account's node dies, the step goes again as soon as it is removed.
        InFlightCalls.For(Context.System).CallAsync(_accounts, new AccountRequest(party.Key, party.Id, command), _settings.StepTimeout)
            .PipeTo(Self, success: reply => new StepResult(step, reply), failure: _ => new StepResult(step, null));
    }

    /// <summary>An internal id: never in the client namespace, so no client call can pre-apply or replay a step.</summary>
    private string StepId(string step) => InternalIds.TransferStep(TransferId, step);

    private void Stepped(StepResult result)
    {
        if (result.Step != _attempt || _outcome is not null) return;
        var debiting = _fromBalance is null;
        switch (result.Reply)
        {
            case AccountReply reply when debiting:
                _unsure = null;
                Persist(new TransferDebited(reply.Balance), evt =>
                {
                    Apply(evt);
                    Continue();
                });
                return;
            case AccountReply reply when _reverting is null:
                _unsure = null;
                Persist(new TransferCredited(reply.Balance), Finished);
                return;
            case AccountReply reply:
                Persist(new TransferReverted(reply.Balance), Finished);
                return;
            case Rejected { Code: nameof(Rules.NotApplied) or nameof(Rules.NotOpen) } when _unsure is { } reason:
                // The dead account never applied the step: a refused withdrawal, or a deposit to give back.
                _unsure = null;
                if (debiting) Persist(new TransferRefused(reason), Finished);
                else PersistReverting(reason);
                return;
            case Rejected { Kind: ErrorKind.RuleViolation } refused when _unsure is null && _reverting is null:
                // Rules are checked before anything is journaled: the step was not applied.
                if (debiting) Persist(new TransferRefused(refused), Finished);
                else PersistReverting(refused);
                return;
            case Rejected { Kind: ErrorKind.ActorDied or ErrorKind.ActorNotFound, Code: not "TaskFailed" } died
                when _unsure is null && _reverting is null:
                // The account is gone; the step's fate is in its journal, which any incarnation answers from.
                var party = debiting ? _started!.From : _started!.To;
                _unsure = died with { Message = died.Code == DeathCauses.MaxRestartsExceeded
                    ? $"actor '{party.Name}' ({party.Id}): {died.Message}"
                    : $"actor '{party.Name}' ({party.Id}) is dead" };
                Continue();
                return;
            default:
                // No answer, an account that is moving or restarting, a call lost in a crash: the same step goes again
                // after a pause, under the same request id, so it is applied once.
                if (result.Reply is Rejected other && _reverting is not null)
                    _log.Warning("Transfer {TransferId}: refund to {Key} refused ({Reason}); retrying", TransferId, _started!.From.Key, other.Message);
                Timers.StartSingleTimer(nameof(RetryStep), RetryStep.Instance, _settings.RetryInterval);
                return;
        }
    }

    private void PersistReverting(Rejected reason)
    {
        _log.Info("Transfer {TransferId}: the target refused the deposit ({Reason}); refunding the source", TransferId, reason.Message);
        Persist(new TransferReverting(reason), evt =>
        {
            Apply(evt);
            Continue();
        });
    }

    private void Finished(IBankMessage evt)
    {
        Apply(evt);
        Finish();
    }

    /// <summary>Answers everyone who asked, then stops: a later retry wakes the saga, which answers from its journal.</summary>
    private void Finish()
    {
        foreach (var waiter in _waiters) waiter.Tell(_outcome!);
        _waiters.Clear();
        // The accounts held this transfer's step ids for as long as it might ask about them; it no longer will.
        if (_started is { } t)
        {
            _accounts.Tell(new AccountRequest(t.From.Key, t.From.Id, new ReleaseRequests([StepId("withdraw"), StepId("refund")])), ActorRefs.NoSender);
            _accounts.Tell(new AccountRequest(t.To.Key, t.To.Id, new ReleaseRequests([StepId("deposit")])), ActorRefs.NoSender);
        }

        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private sealed record StepResult(int Step, object? Reply);

    private sealed record RetryStep
    {
        public static readonly RetryStep Instance = new();
    }
}

/// <summary>Tunables of transfers, read from <c>bank.transfers</c> in hocon/bank.hocon.</summary>
public sealed record TransferSettings(TimeSpan StepTimeout, TimeSpan RetryInterval)
{
    public static TransferSettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new TransferSettings(
            StepTimeout: config.GetTimeSpan("bank.transfers.step-timeout", TimeSpan.FromSeconds(5)),
            RetryInterval: config.GetTimeSpan("bank.transfers.retry-interval", TimeSpan.FromSeconds(1)));
    }
}

/// <summary>Cluster Sharding routes transfer messages by transfer id.</summary>
public sealed class TransferMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    public override string? EntityId(object message) => message is ITransferEnvelope envelope ? envelope.TransferId : null;
}

public static class TransferHostingExtensions
{
    /// <summary>
    /// Starts the transfer saga shard region, registered as <see cref="TransferRegionKey"/>. Its entities are
    /// remembered in the journal, so the sagas of a node that dies resume on another one.
    /// </summary>
    public static AkkaConfigurationBuilder WithTransfers(this AkkaConfigurationBuilder builder, string? role = null) =>
        builder.WithSettledFirstShardRegion<TransferRegionKey>(
            BankConstants.TransferShardType,
            (system, registry) =>
            {
                var settings = TransferSettings.From(system);
                var accounts = registry.Get<AccountRegionKey>();
                return transferId => TransferSaga.PropsFor(transferId, accounts, settings);
            },
            new TransferMessageExtractor(builder.NodeConfig().GetInt("bank.transfers.number-of-shards", 20)),
            role, PoisonPill.Instance,
            "remember-entities = on\nremember-entities-store = eventsourced");
}
