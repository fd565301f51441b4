namespace Bank.Domain;

// What an account's supervisor hears (inputs) and what it decides to do (effects): see AccountSupervision. The actor
// translates its messages into inputs and carries the effects out; Akka stays on its side of these types.

/// <summary>Something an account's supervisor hears: a call, a report of its instance, the registry's word, a tick.</summary>
public interface ISupervisionInput;

/// <summary>A caller's call of the account. <paramref name="Caller"/> is the actor's own record of it (request, reply-to).</summary>
/// <param name="Placement">Set by the registry on a placed open: the node the account must run on from now on.</param>
public sealed record CallArrived<TCall>(TCall Caller, IAccountCommand Command, string? Placement = null) : ISupervisionInput;

/// <summary>The instance (or the closer of a dead incarnation) answered the call it was sent as <paramref name="Seq"/>.</summary>
public sealed record InstanceAnswered(long Seq) : ISupervisionInput;

/// <summary>The account instance recovered, or opened an incarnation.</summary>
/// <param name="FromCurrentInstance">False for a late report of an instance the account has moved away from.</param>
public sealed record InstanceStarted(string Incarnation, Supervision Supervision, int Restarts, bool HoldsResources, bool FromCurrentInstance)
    : ISupervisionInput;

/// <summary>The BackoffSupervisor saw the instance fail and restarts it after a backoff.</summary>
public sealed record InstanceCrashed(string Cause, bool Injected, bool FromCurrentInstance) : ISupervisionInput;

/// <summary>The instance stopped (moved, lost with its node, or its journal failed).</summary>
/// <param name="NodeLost">It ran on another node, and that node is gone (or no longer Up).</param>
public sealed record InstanceStopped(bool NodeLost) : ISupervisionInput;

/// <summary>`bank chaos crash`: the next <paramref name="Times"/> calls other than balance reads crash the instance.</summary>
public sealed record CrashesRequested(int Times) : ISupervisionInput;

/// <summary>A recovery probe (tests, benchmarks): forwarded to a ready instance.</summary>
public sealed record ProbeArrived : ISupervisionInput
{
    public static readonly ProbeArrived Instance = new();
}

/// <summary>The instance asked to be passivated (it closed its incarnation, or the shard's passivation reached it).</summary>
public sealed record PassivationRequested : ISupervisionInput
{
    public static readonly PassivationRequested Instance = new();
}

/// <summary>The shard stops the entity (passivation, hand-off): calls in flight are answered first.</summary>
public sealed record StopRequested : ISupervisionInput
{
    public static readonly StopRequested Instance = new();
}

/// <summary>The placed node started the instance of <paramref name="Generation"/> (it is the sender).</summary>
/// <param name="SenderIsInstance">The sender is the instance the supervisor already runs.</param>
public sealed record InstanceStartedThere(int Generation, bool SenderIsInstance) : ISupervisionInput;

/// <summary>The placed node did not start the instance of <paramref name="Generation"/> in time.</summary>
public sealed record StartThereTimedOut(int Generation, bool NodeUp) : ISupervisionInput;

/// <summary>The registry said where the incarnation runs (<paramref name="Node"/> null: it holds no placement).</summary>
public sealed record PlacementAnswered(string Incarnation, string? Node) : ISupervisionInput;

/// <summary>
/// The registry found no node with the incarnation's resources free. The supervisor times the wait from when it asked, on
/// its own clock: an instant from the coordinator's process would tie the timeout to two wall clocks.
/// </summary>
public sealed record PlacementPendingReported(string Incarnation, string Reason) : ISupervisionInput;

/// <summary>A second passed since the registry was asked where to run.</summary>
public sealed record PlacementAskDue : ISupervisionInput
{
    public static readonly PlacementAskDue Instance = new();
}

/// <summary><paramref name="Node"/> shuts down and released the instance.</summary>
public sealed record InstanceReleased(string Node) : ISupervisionInput;

/// <summary>The registry recorded the death of <paramref name="Incarnation"/>.</summary>
public sealed record FailureRecorded(string Incarnation) : ISupervisionInput;

/// <summary>Time to tell the registry of the death again (until it answers).</summary>
public sealed record FailureReportDue : ISupervisionInput
{
    public static readonly FailureReportDue Instance = new();
}

/// <summary>The closer of a dead incarnation stopped.</summary>
public sealed record CloserStopped : ISupervisionInput
{
    public static readonly CloserStopped Instance = new();
}

/// <summary>Something the actor is to do, in the order given.</summary>
public interface ISupervisionEffect;

/// <summary>Start the instance (a BackoffSupervisor over the account) here, as a watched child.</summary>
public sealed record StartInstanceHere(int Generation) : ISupervisionEffect;

/// <summary>Ask <paramref name="Node"/> to start the instance for this supervisor, and time the wait.</summary>
public sealed record StartInstanceThere(string Node, int Generation) : ISupervisionEffect;

/// <summary>The sender is the instance the placed node started: watch it, stop timing the wait.</summary>
public sealed record AdoptStartedInstance : ISupervisionEffect
{
    public static readonly AdoptStartedInstance Instance = new();
}

/// <summary>The sender is an instance nobody waits for: stop it.</summary>
public sealed record StopSender : ISupervisionEffect
{
    public static readonly StopSender Instance = new();
}

/// <summary>Stop the instance (it stays known until it has stopped). <paramref name="Remote"/>: it runs on another node.</summary>
public sealed record StopInstance(bool Remote) : ISupervisionEffect;

/// <summary>Stop the instance and forget it at once (no restarts left).</summary>
public sealed record DropInstance(bool Remote) : ISupervisionEffect;

/// <summary>Send a call to the instance; <paramref name="Crash"/>: it is to crash after its work (fault injection).</summary>
public sealed record SendToInstance<TCall>(long Seq, SupervisedCallEntry<TCall> Call, bool Crash) : ISupervisionEffect where TCall : class;

/// <summary>Start the last instance of a dead incarnation, which journals its close and answers refunds.</summary>
public sealed record StartCloser(int Generation) : ISupervisionEffect;

/// <summary>Send a call to the closer.</summary>
public sealed record SendToCloser<TCall>(long Seq, SupervisedCallEntry<TCall> Call) : ISupervisionEffect where TCall : class;

/// <summary>Give the caller the answer the instance just sent.</summary>
public sealed record DeliverAnswer<TCall>(TCall Caller) : ISupervisionEffect;

/// <summary>Refuse the caller's call.</summary>
public sealed record RefuseCall<TCall>(TCall Caller, SupervisionRefusal Refusal) : ISupervisionEffect;

/// <summary>Hand the caller's call back to the shard, which gives it to the next entity of the account.</summary>
public sealed record ReturnToShard<TCall>(TCall Caller) : ISupervisionEffect;

/// <summary>Answer the sender of the message at hand (a fault injection, a probe) with a refusal.</summary>
public sealed record RefuseSender(SupervisionRefusal Refusal) : ISupervisionEffect;

/// <summary>The account will crash on its next <paramref name="Times"/> calls: tell the sender.</summary>
public sealed record ConfirmCrashes(int Times) : ISupervisionEffect;

/// <summary>Fault injection is off on this node: tell the sender.</summary>
public sealed record RefuseFaultInjection : ISupervisionEffect
{
    public static readonly RefuseFaultInjection Instance = new();
}

/// <summary>Forward the message at hand (a probe) to the instance.</summary>
public sealed record ForwardToInstance : ISupervisionEffect
{
    public static readonly ForwardToInstance Instance = new();
}

/// <summary>Keep the message at hand for later, give back every message kept, or drop them.</summary>
public sealed record StashEffect(StashAction Action) : ISupervisionEffect
{
    public static readonly StashEffect Keep = new(StashAction.Keep);
    public static readonly StashEffect GiveBack = new(StashAction.GiveBack);
    public static readonly StashEffect Drop = new(StashAction.Drop);
}

public enum StashAction
{
    Keep,
    GiveBack,
    Drop,
}

/// <summary>Ask the registry where the incarnation runs, and ask again in a second unless it answers.</summary>
/// <param name="Leaving">A node that released the instance while shutting down: not to be chosen again.</param>
public sealed record AskWhereToRun(string Incarnation, string? Leaving) : ISupervisionEffect;

/// <summary>The registry answered: stop asking again.</summary>
public sealed record StopAskingWhereToRun : ISupervisionEffect
{
    public static readonly StopAskingWhereToRun Instance = new();
}

/// <summary>Tell the registry the incarnation crashed and restarts (for `bank list`).</summary>
public sealed record ReportRestarting(string Incarnation, int Restarts, string Cause) : ISupervisionEffect;

/// <summary>Tell the registry the incarnation runs again after a restart.</summary>
public sealed record ReportRestartCompleted(string Incarnation, int Restarts) : ISupervisionEffect;

/// <summary>Tell the registry the incarnation died, now and every two seconds, until it answers.</summary>
public sealed record StartFailureReports : ISupervisionEffect
{
    public static readonly StartFailureReports Instance = new();
}

/// <summary>Tell the registry the incarnation died (one of the repeated reports).</summary>
public sealed record ReportFailure(string Incarnation, int Restarts, string Cause) : ISupervisionEffect;

/// <summary>The registry knows of the death: stop reporting it.</summary>
public sealed record StopFailureReports : ISupervisionEffect
{
    public static readonly StopFailureReports Instance = new();
}

/// <summary>Ask the shard to passivate the entity: it stops when idle, and the shard holds new calls meanwhile.</summary>
public sealed record AskShardToPassivate : ISupervisionEffect
{
    public static readonly AskShardToPassivate Instance = new();
}

/// <summary>Stop the entity now.</summary>
public sealed record StopSelf : ISupervisionEffect
{
    public static readonly StopSelf Instance = new();
}

/// <summary>The message at hand is not for this entity in its state.</summary>
public sealed record NotHandled : ISupervisionEffect
{
    public static readonly NotHandled Instance = new();
}

/// <summary>A line for the node's log (Info, or Warning when <paramref name="Warning"/>).</summary>
public sealed record LogLine(bool Warning, string Template, params object?[] Args) : ISupervisionEffect;

/// <summary>How a supervisor refuses a call; the actor turns it into the wire's refusal.</summary>
public sealed record SupervisionRefusal(RefusalKind Kind, string Code, string Message);

/// <summary>The kinds of refusal a supervisor gives (a subset of the wire's error kinds).</summary>
public enum RefusalKind
{
    /// <summary>The actor died, or crashed with no retry left for the call.</summary>
    ActorDied,

    /// <summary>Try again: the account moves, waits for a node, or its journal failed.</summary>
    ClusterUnreachable,
}
