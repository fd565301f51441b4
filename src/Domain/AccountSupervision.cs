using System.Collections.Immutable;

namespace Bank.Domain;

/// <summary>What a supervisor does with the messages of its account: see <see cref="AccountSupervision{TCall}"/>.</summary>
public enum SupervisorMode
{
    /// <summary>Calls go to the instance as they come.</summary>
    Running,

    /// <summary>Calls wait: for the instance to start, to restart after a crash, to move, or for a node to run it on.</summary>
    Restarting,

    /// <summary>No restarts left: every call is answered ActorDied while the journal and the registry learn of it.</summary>
    Dead,
}

/// <summary>What one account's supervisor knows that does not change with its state: who it is and its node's settings.</summary>
/// <param name="HasRegistry">The node runs with a name registry to ask where to run and to report restarts and deaths to.</param>
public sealed record AccountSupervisionConfig(string Key, string Node, TimeSpan PendingTimeout, bool HasRegistry, bool AllowFaultInjection);

/// <summary>A call the supervisor holds until it is answered. <paramref name="Caller"/> is null for its own calls.</summary>
/// <param name="Incarnation">The incarnation the supervisor served when it made the call (its own calls name it).</param>
/// <param name="Sent">In flight to the instance: a crash now uses one of its retries.</param>
public sealed record SupervisedCallEntry<TCall>(TCall? Caller, IAccountCommand Command, string Incarnation, bool Sent = false, int Retries = 0)
    where TCall : class;

/// <summary>The instance of the account: its count of starts, where it runs, and how far it is.</summary>
/// <param name="Node">Where it runs or is being started; empty when none is.</param>
/// <param name="Running">The supervisor holds it (started here, or on <paramref name="Node"/> for it).</param>
/// <param name="Ready">It has recovered from the journal and reported its start.</param>
/// <param name="Stopping">The supervisor stopped it (to move it) and waits for its end.</param>
public sealed record InstanceState(int Generation, string Node, bool Running, bool Ready, bool Stopping)
{
    public static readonly InstanceState None = new(0, string.Empty, false, false, false);
}

/// <summary>Where the incarnation must run, as far as the registry said.</summary>
/// <param name="HoldsResources">It asked for resources, so it runs only where it was placed.</param>
/// <param name="Known">The registry said where (or the open named it).</param>
/// <param name="Node">The node it must run on; null: this one.</param>
/// <param name="Pending">No node has its resources free: since when (this supervisor's monotonic time), and why.</param>
/// <param name="AskingSince">Since when (monotonic) the registry was asked without an answer: calls do not wait on it for ever either.</param>
/// <param name="Released">The node that released the instance while shutting down: it must not be chosen again.</param>
public sealed record PlacementState(bool HoldsResources, bool Known, string? Node, PendingPlacement? Pending, TimeSpan? AskingSince, string? Released)
{
    public static readonly PlacementState Unknown = new(false, false, null, null, null, null);
}

public sealed record PendingPlacement(TimeSpan Since, string Reason);

/// <summary>The restart budget of the incarnation (Ray's max_restarts and max_task_retries) and how much of it is used.</summary>
/// <param name="Restarting">A crash was seen and the instance has not reported its restart yet.</param>
public sealed record RestartBudget(Supervision Supervision, int Restarts, bool Restarting, string LastCause)
{
    public static readonly RestartBudget Fresh = new(Supervision.Default, 0, false, "crashed");
}

/// <summary>How the entity ends: drained by the shard, or closed after its death.</summary>
/// <param name="Draining">The shard stops the entity (passivation, hand-off): it stops once no call is held.</param>
/// <param name="PassivationAsked">The entity asked the shard to passivate it, so the shard holds calls for the next entity.</param>
/// <param name="Closed">Dead: the closer journaled the close.</param>
/// <param name="FailureRecorded">Dead: the registry recorded the death.</param>
/// <param name="Passivating">Dead: the entity asked the shard to passivate it.</param>
public sealed record EndState(bool Draining, bool PassivationAsked, bool Closed, bool FailureRecorded, bool Passivating)
{
    public static readonly EndState Alive = new(false, false, false, false, false);
}

/// <summary>The outcome of <see cref="AccountSupervision{TCall}.Decide"/>: the next state and what the actor is to do, in order.</summary>
public sealed record SupervisionDecision<TCall>(AccountSupervision<TCall> Next, IReadOnlyList<ISupervisionEffect> Effects) where TCall : class;

/// <summary>
/// Ray's actor supervision of one account, as a pure model: the account's supervisor actor turns each message into an
/// <see cref="ISupervisionInput"/>, and <see cref="Decide"/> returns the next state with the effects to carry out (start,
/// stop or move the instance, send, answer, stash, ask the registry). It enforces the incarnation's budgets, which the
/// account journals when it is opened, so they hold after passivation and failover:
/// <list type="bullet">
/// <item>max restarts: a crash with none left leaves the actor DEAD with MAX_RESTARTS_EXCEEDED;</item>
/// <item>max task retries: calls in flight during a crash are resent after the restart while their retries last,
/// else answered ActorDied. A resent deposit carries its request id, so the account applies it once.</item>
/// </list>
/// An incarnation that holds resources runs where it was placed; when that node leaves, the instance moves to
/// the node placed next (calls wait, and are resent); while no node fits, calls fail after the pending timeout.
/// Time is an input: nothing here reads a clock.
/// </summary>
/// <typeparam name="TCall">The actor's record of a caller's call (the request and whom to answer); opaque here.</typeparam>
public sealed partial record AccountSupervision<TCall> where TCall : class
{
    /// <summary>Why an account whose restarts are used up died (Ray's death cause).</summary>
    public const string MaxRestartsExceeded = "MAX_RESTARTS_EXCEEDED";

    public AccountSupervision(AccountSupervisionConfig config) => Config = config;

    public AccountSupervisionConfig Config { get; }

    /// <summary>The instance starts with the first message (Restarting): an open from the registry may say where it must run.</summary>
    public SupervisorMode Mode { get; init; } = SupervisorMode.Restarting;

    /// <summary>The incarnation the instance last reported; empty until it has.</summary>
    public string Incarnation { get; init; } = string.Empty;

    public RestartBudget Budget { get; init; } = RestartBudget.Fresh;

    public InstanceState Instance { get; init; } = InstanceState.None;

    public PlacementState Placement { get; init; } = PlacementState.Unknown;

    public EndState End { get; init; } = EndState.Alive;

    /// <summary>Calls not answered yet, by the number they are sent with, oldest first.</summary>
    public ImmutableSortedDictionary<long, SupervisedCallEntry<TCall>> Calls { get; init; } = ImmutableSortedDictionary<long, SupervisedCallEntry<TCall>>.Empty;

    /// <summary>The number of the latest call.</summary>
    public long LastSeq { get; init; }

    /// <summary>Fault injection: how many of the next calls (other than balance reads) crash the instance.</summary>
    public int CrashesToInject { get; init; }

    /// <summary>The node the instance must run on.</summary>
    public string Target => Placement.Node ?? Config.Node;

    /// <summary>
    /// What the supervisor does on <paramref name="input"/>. <paramref name="now"/> is a monotonic reading (elapsed since
    /// any fixed start), never the wall clock: it times pending placements, which a wall clock set forward would fail early.
    /// </summary>
    public SupervisionDecision<TCall> Decide(ISupervisionInput input, TimeSpan now)
    {
        var effects = new List<ISupervisionEffect>(2);
        var next = Mode == SupervisorMode.Dead ? WhenDead(input, effects) : WhenAlive(input, effects, now);
        return new SupervisionDecision<TCall>(next, effects);
    }

    private AccountSupervision<TCall> WhenAlive(ISupervisionInput input, List<ISupervisionEffect> fx, TimeSpan now)
    {
        var running = Mode == SupervisorMode.Running;
        switch (input)
        {
            case CallArrived<TCall> call:
                var placed = PlaceOpen(call);
                var send = running && placed.Target == placed.Instance.Node;
                var tracked = placed.Track(call.Caller, call.Command, send, fx);
                // The common case, an instance running ready where it must: the call went at once and there is nothing to settle.
                if (send && ReferenceEquals(placed, this) && IsSettledRunning) return tracked;
                return (running ? tracked : tracked.FailCallsIfPendingTooLong(fx, now)).Settle(fx, now);
            case InstanceAnswered answered:
                return Answered(answered.Seq, fx, now);
            case InstanceStarted started:
                // An instance on another node may report before that node says it started it: it waits until we know it.
                if (!running && !Instance.Running)
                {
                    fx.Add(StashEffect.Keep);
                    return this;
                }

                return started.FromCurrentInstance ? Started(started, fx, now) : this;
            case InstanceCrashed crashed:
                return running && crashed.FromCurrentInstance ? Crashed(crashed, fx) : this;
            case CrashesRequested requested:
                return InjectCrashes(requested, fx);
            case ProbeArrived:
                if (Instance.Running && Instance.Ready)
                {
                    fx.Add(ForwardToInstance.Instance);
                    return this;
                }

                // Asked before the instance runs: it starts, and the probe goes to it then.
                fx.Add(StashEffect.Keep);
                return Settle(fx, now);
            case PassivationRequested:
                fx.Add(AskShardToPassivate.Instance);
                return this with { End = End with { PassivationAsked = true } };
            case StopRequested:
                return Drain(fx);
            case InstanceStartedThere startedThere:
                return StartedThere(startedThere, fx);
            case StartThereTimedOut timedOut:
                return StartThereTimeout(timedOut, fx, now);
            case PlacementAnswered answer:
                return answer.Incarnation == Incarnation && !Placement.Known ? PlacementLearned(answer.Node, fx, now) : this;
            case PlacementPendingReported pending:
                return PendingReported(pending, fx, now);
            case PlacementAskDue:
                return Placement.Known || End.Draining ? this : FailCallsIfPendingTooLong(fx, now).AskWhereToRun(fx, now);
            case InstanceReleased released:
                // The instance's node is shutting down: it stops the instance, and the account moves elsewhere.
                if (released.Node != Instance.Node || !Instance.Running || Instance.Stopping) return this;
                return (this with { Placement = Placement with { Released = released.Node } }).StopInstance(fx);
            case InstanceStopped stopped:
                return InstanceEnded(stopped, fx, now);
            case CloserStopped:
                return this;
            default:
                fx.Add(NotHandled.Instance);
                return this;
        }
    }

    /// <summary>What <see cref="Settle"/> would leave as it is: running ready where it must, nothing pending or draining.</summary>
    private bool IsSettledRunning =>
        !End.Draining && Placement.Pending is null && (!Placement.HoldsResources || Placement.Known) && Instance.Ready && !Budget.Restarting;

    private AccountSupervision<TCall> Track(TCall? caller, IAccountCommand command, bool send, List<ISupervisionEffect> fx)
    {
        var seq = LastSeq + 1;
        if (!send) return this with { LastSeq = seq, Calls = Calls.Add(seq, new SupervisedCallEntry<TCall>(caller, command, Incarnation)) };
        // Sent at once: recorded as sent, one copy of the state rather than two.
        var sent = new SupervisedCallEntry<TCall>(caller, command, Incarnation, Sent: true);
        var crash = CrashDue(sent);
        fx.Add(new SendToInstance<TCall>(seq, sent, crash));
        return this with { LastSeq = seq, Calls = Calls.Add(seq, sent), CrashesToInject = crash ? CrashesToInject - 1 : CrashesToInject };
    }

    // Reads (a dashboard's, `bank list`'s) do not use up injected crashes: the caller's next change does.
    private bool CrashDue(SupervisedCallEntry<TCall> call) => call.Caller is not null && CrashesToInject > 0 && call.Command is not GetBalance;

    private AccountSupervision<TCall> Send(long seq, SupervisedCallEntry<TCall> call, List<ISupervisionEffect> fx)
    {
        var crash = CrashDue(call);
        var sent = call with { Sent = true };
        fx.Add(new SendToInstance<TCall>(seq, sent, crash));
        return this with { Calls = Calls.SetItem(seq, sent), CrashesToInject = crash ? CrashesToInject - 1 : CrashesToInject };
    }

    /// <summary>Sends every call that waits, and gives back the messages kept for a running instance.</summary>
    private AccountSupervision<TCall> SendWaiting(List<ISupervisionEffect> fx)
    {
        var next = this with { Mode = SupervisorMode.Running };
        foreach (var (seq, call) in Calls)
            if (!call.Sent) next = next.Send(seq, call, fx);
        fx.Add(StashEffect.GiveBack);
        return next;
    }

    private AccountSupervision<TCall> Answered(long seq, List<ISupervisionEffect> fx, TimeSpan now)
    {
        var next = this;
        if (Calls.TryGetValue(seq, out var call))
        {
            next = this with { Calls = Calls.Remove(seq) };
            if (call.Caller is { } caller) fx.Add(new DeliverAnswer<TCall>(caller));
        }

        next = next.StopIfDrained(fx);
        // A move waits for the calls in flight.
        return next.Instance.Running && next.Target != next.Instance.Node ? next.Settle(fx, now) : next;
    }

    /// <summary>Removes the calls <paramref name="which"/> picks; each caller among them gets <paramref name="refusal"/>.</summary>
    private AccountSupervision<TCall> RefuseCalls(Func<SupervisedCallEntry<TCall>, bool> which, SupervisionRefusal refusal, List<ISupervisionEffect> fx)
    {
        var calls = Calls;
        foreach (var (seq, call) in Calls)
        {
            if (!which(call)) continue;
            calls = calls.Remove(seq);
            if (call.Caller is { } caller) fx.Add(new RefuseCall<TCall>(caller, refusal));
        }

        return this with { Calls = calls };
    }

    private AccountSupervision<TCall> StopIfDrained(List<ISupervisionEffect> fx)
    {
        if (End.Draining && Calls.IsEmpty) fx.Add(StopSelf.Instance);
        return this;
    }

    private AccountSupervision<TCall> InjectCrashes(CrashesRequested requested, List<ISupervisionEffect> fx)
    {
        if (!Config.AllowFaultInjection)
        {
            fx.Add(RefuseFaultInjection.Instance);
            return this;
        }

        var times = Math.Max(0, requested.Times);
        fx.Add(new ConfirmCrashes(times));
        return this with { CrashesToInject = times };
    }

    /// <summary>
    /// Passivation or a hand-off: the shard holds new calls meanwhile; the calls already passed to the account are
    /// answered first, then the entity stops. Stopping at once would drop them with the account's mailbox.
    /// </summary>
    private AccountSupervision<TCall> Drain(List<ISupervisionEffect> fx)
    {
        var next = this with { End = End with { Draining = true } };
        if (Placement.Pending is not null || (Placement.HoldsResources && !Placement.Known) || !Instance.Running || Target != Instance.Node)
        {
            // Waiting for a node or a move: these calls never reached the account. When we asked to passivate, the
            // shard holds calls for the next entity, so they go back to it; on a hand-off their callers resend them.
            var calls = Calls;
            foreach (var (seq, call) in Calls)
            {
                if (call.Sent) continue;
                calls = calls.Remove(seq);
                if (call.Caller is not { } caller) continue;
                fx.Add(End.PassivationAsked ? new ReturnToShard<TCall>(caller) : new RefuseCall<TCall>(caller, Refusals.Moving(Config.Key)));
            }

            next = next with { Calls = calls };
        }

        return next.StopIfDrained(fx);
    }
}
