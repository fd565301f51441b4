using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Accounts;

/// <summary>
/// The sharded entity of one account: Ray's actor supervision for it. What it decides (restart budget, task retries,
/// where the instance runs, moves, drain, death) is <see cref="AccountSupervision{TCall}"/>, a pure model; this actor
/// turns its messages into the model's inputs and carries out the effects it decides: it runs the instance (Akka's
/// BackoffSupervisor over the <see cref="AccountActor"/>, see <see cref="SupervisedInstance"/>) here, or through the
/// <see cref="PlacedInstances"/> of the node the account is placed on, and watches it from here, so that the entity stays
/// the one writer of the account wherever its instance runs.
/// <para>
/// An untyped actor: a node holds one per live account, and a ReceiveActor would build a handler and a delegate per
/// message type in every instance.
/// </para>
/// </summary>
public sealed class AccountSupervisor : UntypedActor, IWithUnboundedStash
{
    private readonly string _key;
    private readonly AccountSettings _settings;
    private AccountSupervision<AccountCall> _model = null!;
    private ILoggingAdapter? _log;
    private IActorRef? _registry;
    private RegistryReports? _reports;
    // The BackoffSupervisor of the instance (Nobody while none runs), and the last instance of a dead incarnation.
    private IActorRef _instance = ActorRefs.Nobody;
    private IActorRef _closer = ActorRefs.Nobody;
    // The wait for another node to start the instance: a timer made when used, as Akka's timer scheduler would cost every
    // live account a scheduler and a dictionary. A late tick is told by its generation.
    private ICancelable? _startThereTimer;

    public AccountSupervisor(string key, AccountSettings settings)
    {
        _key = key;
        _settings = settings;
    }

    public IStash Stash { get; set; } = null!;

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    private RegistryReports Reports => _reports ??= new RegistryReports(_registry!, _key, Self, Context.System.Scheduler);

    public static Props PropsFor(string key, AccountSettings settings) => settings.PropsOf<AccountSupervisor>(key, settings);

    protected override void PreStart()
    {
        ActorRegistry.For(Context.System).TryGet<NameRegistryKey>(out _registry);
        _model = new AccountSupervision<AccountCall>(new AccountSupervisionConfig(
            _key, _settings.Node, _settings.PendingTimeout, HasRegistry: _registry is not null, _settings.AllowFaultInjection));
    }

    protected override void PostStop()
    {
        _startThereTimer?.Cancel();
        _reports?.Cancel();
        // An instance on another node is no child of ours: it is stopped by hand (its node also stops it when we die).
        if (!_instance.IsNobody() && _model.Instance.Node != _settings.Node) _instance.Tell(PoisonPill.Instance);
    }

    // The BackoffSupervisor and the account instance that closes a dead incarnation are stopped, never restarted, by us.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    protected override void OnReceive(object message)
    {
        var input = InputOf(message);
        if (input is null)
        {
            if (message is not Terminated) Unhandled(message);
            return;
        }

        // Monotonic: a wall clock set forward must not fail a pending placement's calls early.
        var decision = _model.Decide(input, _settings.Monotonic());
        _model = decision.Next;
        foreach (var effect in decision.Effects) Carry(effect, message);
        if (!_model.Instance.Running) _instance = ActorRefs.Nobody;
    }

    /// <summary>What a message means to the model; null for one it has no use for (a Terminated of an actor gone before).</summary>
    private ISupervisionInput? InputOf(object message) => message switch
    {
        AccountRequest request => new CallArrived<AccountCall>(new AccountCall(request, Sender), request.Command, request.Placement),
        TrackedAccountRequest tracked => new CallArrived<AccountCall>(new AccountCall(tracked.Request, Sender, tracked.Id),
            tracked.Request.Command, tracked.Request.Placement),
        SupervisedAnswer answer => new InstanceAnswered(answer.Seq),
        AccountStarted started => new InstanceStarted(started.Incarnation, started.Supervision, started.Restarts,
            HoldsResources: started.Resources is not null, FromCurrentInstance()),
        AccountCrashed crashed => new InstanceCrashed(crashed.Cause, crashed.Injected, FromCurrentInstance()),
        InjectCrash inject => new CrashesRequested(inject.Times),
        AccountProbe => ProbeArrived.Instance,
        Passivate or AccountInstanceDone => PassivationRequested.Instance,
        StopWhenIdle => StopRequested.Instance,
        PlacedInstanceStarted started => new InstanceStartedThere(started.Generation, SenderIsInstance: Sender.Equals(_instance)),
        StartWaitTimedOut timedOut => new StartThereTimedOut(timedOut.Generation, IsUp(_model.Instance.Node)),
        RunAt runAt => new PlacementAnswered(runAt.Incarnation, runAt.Node),
        NotPlaced notPlaced => new PlacementAnswered(notPlaced.Incarnation, null),
        PlacementPending pending => new PlacementPendingReported(pending.Incarnation, pending.Reason),
        RegistryReports.AskAgain => PlacementAskDue.Instance,
        AccountInstanceReleased released => new InstanceReleased(released.Node),
        ActorFailureRecorded recorded => new FailureRecorded(recorded.Id),
        RegistryReports.ReportAgain => FailureReportDue.Instance,
        Terminated terminated => Stopped(terminated),
        _ => null,
    };

    private ISupervisionInput? Stopped(Terminated terminated)
    {
        if (!_instance.IsNobody() && terminated.ActorRef.Equals(_instance))
        {
            var node = _model.Instance.Node;
            return new InstanceStopped(NodeLost: node != _settings.Node && (terminated.AddressTerminated || !IsUp(node)));
        }

        return terminated.ActorRef.Equals(_closer) ? CloserStopped.Instance : null;
    }

    /// <summary>
    /// Reports come from the current BackoffSupervisor (crashes) or its account (starts); one from an instance we moved
    /// away from, arriving late, is not about the instance that runs now.
    /// </summary>
    private bool FromCurrentInstance() =>
        !_instance.IsNobody() && (Sender.Equals(_instance) || Sender.Path.Parent.Equals(_instance.Path));

    private bool IsUp(string node) =>
        Cluster.Get(Context.System).State.Members.Any(m => m.Status == MemberStatus.Up && m.Address.ToString() == node);

    private void Carry(ISupervisionEffect effect, object message)
    {
        switch (effect)
        {
            case SendToInstance<AccountCall> send:
                _instance.Tell(new SupervisedCall(send.Seq, RequestOf(send.Call), send.Crash));
                break;
            case DeliverAnswer<AccountCall> deliver:
                deliver.Caller.Answer(((SupervisedAnswer)message).Answer);
                break;
            case RefuseCall<AccountCall> refuse:
                refuse.Caller.Answer(Refusal(refuse.Refusal));
                break;
            case ReturnToShard<AccountCall> back:
                Context.Parent.Tell(back.Caller.Envelope, back.Caller.ReplyTo);
                break;
            case StashEffect stash:
                if (stash.Action == StashAction.Keep) Stash.Stash();
                else if (stash.Action == StashAction.GiveBack) Stash.UnstashAll();
                else Stash.ClearStash();
                break;
            case ForwardToInstance:
                _instance.Forward(message);
                break;
            case RefuseSender refuse:
                Sender.Tell(Refusal(refuse.Refusal));
                break;
            case ConfirmCrashes confirm:
                Sender.Tell(FaultInjection.Confirmed(_key, confirm.Times, _settings.Node));
                break;
            case RefuseFaultInjection:
                Sender.Tell(FaultInjection.Refused(_settings.Node));
                break;
            case AskShardToPassivate:
                Context.Parent.Tell(new Passivate(StopWhenIdle.Instance));
                break;
            case StopSelf:
                Context.Stop(Self);
                break;
            case NotHandled:
                Unhandled(message);
                break;
            case LogLine line:
                if (line.Warning) Log.Warning(line.Template, line.Args);
                else Log.Info(line.Template, line.Args);
                break;
            default:
                CarryInstanceOrRegistry(effect);
                break;
        }
    }

    private void CarryInstanceOrRegistry(ISupervisionEffect effect)
    {
        switch (effect)
        {
            case StartInstanceHere start:
                _instance = Context.Watch(Context.ActorOf(SupervisedInstance.PropsFor(_key, _settings, Self), $"backoff-{start.Generation}"));
                break;
            case StartInstanceThere ask:
                _instance = ActorRefs.Nobody;
                Context.ActorSelection(PlacedInstances.PathOn(ask.Node)).Tell(new StartPlacedInstance(_key, ask.Generation));
                _startThereTimer?.Cancel();
                _startThereTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(_settings.AskTimeout, Self, new StartWaitTimedOut(ask.Generation), Self);
                break;
            case AdoptStartedInstance:
                _startThereTimer?.Cancel();
                _instance = Context.Watch(Sender);
                break;
            case StopSender:
                Sender.Tell(PoisonPill.Instance);
                break;
            case StopInstance stop:
                if (stop.Remote) _instance.Tell(PoisonPill.Instance);
                else Context.Stop(_instance);
                break;
            case DropInstance drop:
                Context.Unwatch(_instance);
                if (!_instance.IsNobody())
                {
                    if (drop.Remote) _instance.Tell(PoisonPill.Instance);
                    else Context.Stop(_instance);
                }

                _instance = ActorRefs.Nobody;
                break;
            case StartCloser start:
                _closer = Context.Watch(Context.ActorOf(AccountActor.PropsFor(_key, _settings), $"closing-{start.Generation}"));
                break;
            case SendToCloser<AccountCall> send:
                _closer.Tell(new SupervisedCall(send.Seq, RequestOf(send.Call), false));
                break;
            case AskWhereToRun ask:
                Reports.AskWhereToRun(ask.Incarnation, ask.Leaving);
                break;
            case StopAskingWhereToRun:
                _reports?.StopAsking();
                break;
            case ReportRestarting restarting:
                BankMetrics.Restarts.Add(1);
                _registry?.Tell(new ActorRestarting(_key, restarting.Incarnation, restarting.Restarts, restarting.Cause));
                break;
            case ReportRestartCompleted completed:
                _registry?.Tell(new ActorRestartCompleted(_key, completed.Incarnation, completed.Restarts));
                break;
            case StartFailureReports:
                Reports.StartFailureReports();
                break;
            case ReportFailure failure:
                _registry?.Tell(new ActorFailed(_key, failure.Incarnation, failure.Restarts, failure.Cause));
                break;
            case StopFailureReports:
                _reports?.StopFailureReports();
                break;
            default:
                throw new InvalidOperationException($"Account {_key}: no way to carry out {effect.GetType().Name}");
        }
    }

    private AccountRequest RequestOf(SupervisedCallEntry<AccountCall> call) =>
        call.Caller?.Request ?? new AccountRequest(_key, call.Incarnation, call.Command);

    private static Rejected Refusal(SupervisionRefusal refusal) => new(
        refusal.Kind == RefusalKind.ActorDied ? ErrorKind.ActorDied : ErrorKind.ClusterUnreachable, refusal.Code, refusal.Message);

    /// <summary>How the shard stops an account entity (passivation, hand-off): after the calls in flight are answered.</summary>
    public sealed record StopWhenIdle
    {
        public static readonly StopWhenIdle Instance = new();
    }

    private sealed record StartWaitTimedOut(int Generation);
}

/// <summary>
/// A caller's call as the supervisor holds it: the request, whom to answer, and the id to answer under when the caller
/// tracks its calls by id (<see cref="TrackedAccountRequest"/>; 0 when it does not).
/// </summary>
public sealed record AccountCall(AccountRequest Request, IActorRef ReplyTo, long TrackedId = 0)
{
    /// <summary>The call as it came, for the shard to hand to the entity's successor.</summary>
    public IAccountEnvelope Envelope => TrackedId == 0 ? Request : new TrackedAccountRequest(TrackedId, Request);

    /// <summary>Answers the caller: a tracked call under its id, as its reply address expects.</summary>
    public void Answer(object answer) => ReplyTo.Tell(TrackedId == 0 ? answer : CorrelatedAccountReply.Of(TrackedId, answer));
}
