namespace Bank.Domain;

// Where the instance runs: starting it here or on the placed node, asking the registry where it must
// run, moving it there once the calls in flight are answered, and losing it with its node.
public sealed partial record AccountSupervision<TCall>
{
    /// <summary>
    /// Decides what the account needs next: to learn where it runs (it holds resources), an instance there, a move
    /// there once the calls in flight are answered, or nothing: then it runs and the waiting calls go.
    /// </summary>
    private AccountSupervision<TCall> Settle(List<ISupervisionEffect> fx, TimeSpan now)
    {
        var target = Target;
        if (End.Draining)
        {
            // Stopping (passivation, hand-off): no start, ask or move, but calls waiting for a ready instance still go.
            return Instance.Running && Instance.Ready && !Budget.Restarting && target == Instance.Node ? SendWaiting(fx) : this;
        }

        if (Placement.HoldsResources && !Placement.Known) return AskWhereToRun(fx, now);
        if (Placement.Pending is not null) return this;
        if (!Instance.Running) return Instance.Node.Length == 0 ? StartInstance(target, fx) : this;
        if (target != Instance.Node)
        {
            if (Instance.Stopping || Calls.Values.Any(c => c.Sent)) return this;
            fx.Add(new LogLine(false, "Account {Key} moves from {From} to {To}", Config.Key, Instance.Node, target));
            return StopInstance(fx);
        }

        return !Instance.Ready || Budget.Restarting ? this : SendWaiting(fx);
    }

    /// <summary>Starts the instance on <paramref name="node"/>: a child here, or by that node's PlacedInstances.</summary>
    private AccountSupervision<TCall> StartInstance(string node, List<ISupervisionEffect> fx)
    {
        var generation = Instance.Generation + 1;
        var here = node == Config.Node;
        fx.Add(here ? new StartInstanceHere(generation) : new StartInstanceThere(node, generation));
        return this with { Instance = new InstanceState(generation, node, Running: here, Ready: false, Instance.Stopping) };
    }

    private AccountSupervision<TCall> StopInstance(List<ISupervisionEffect> fx)
    {
        fx.Add(new StopInstance(Instance.Node != Config.Node));
        return this with { Instance = Instance with { Stopping = true } };
    }

    /// <summary>The placed node started the instance (the sender).</summary>
    private AccountSupervision<TCall> StartedThere(InstanceStartedThere started, List<ISupervisionEffect> fx)
    {
        if (started.Generation != Instance.Generation || Instance.Running)
        {
            // An instance we no longer wait for (its start timed out, or we asked again): it must not live on.
            if (!started.SenderIsInstance) fx.Add(StopSender.Instance);
            return this;
        }

        fx.Add(AdoptStartedInstance.Instance);
        fx.Add(StashEffect.GiveBack);
        return this with { Instance = Instance with { Running = true } };
    }

    /// <summary>
    /// The placed node did not answer. While it is Up, it is asked again; once it is gone, the account is placed again
    /// (when its incarnation is known to hold resources), or the calls waiting for it are told to try again: an open
    /// placed there must never run anywhere else.
    /// </summary>
    private AccountSupervision<TCall> StartThereTimeout(StartThereTimedOut timedOut, List<ISupervisionEffect> fx, TimeSpan now)
    {
        if (timedOut.Generation != Instance.Generation || Instance.Running) return this;
        if (timedOut.NodeUp && !End.Draining)
        {
            fx.Add(new LogLine(false, "Account {Key}: node {Node} did not start its instance yet; asking it again", Config.Key, Instance.Node));
            return StartInstance(Instance.Node, fx);
        }

        return LostPlacement($"the node chosen for account '{Config.Key}' ({Instance.Node}) is gone", fx, now);
    }

    /// <summary>The node the account was to run on is gone before its instance ran there.</summary>
    private AccountSupervision<TCall> LostPlacement(string why, List<ISupervisionEffect> fx, TimeSpan now)
    {
        var next = this with
        {
            Mode = SupervisorMode.Restarting,
            Instance = Instance with { Node = string.Empty },
            Placement = Placement with { Node = null, Known = false },
        };
        if (Placement.HoldsResources) return next.Settle(fx, now);

        // Not known to hold resources: a placed open whose node went away. Its caller (the registry) tries again.
        var retry = new SupervisionRefusal(RefusalKind.ClusterUnreachable, "PlacementLost", $"{why}; try again");
        return next.RefuseCalls(c => !c.Sent, retry, fx).StopIfDrained(fx);
    }

    /// <summary>
    /// The registry opens a placed account with the node it chose (an open without one runs anywhere): the instance
    /// moves there before the open is handled.
    /// </summary>
    private AccountSupervision<TCall> PlaceOpen(CallArrived<TCall> call)
    {
        if (call.Command is not OpenAccount) return this;
        return this with
        {
            Placement = Placement with
            {
                Node = call.Placement,
                Known = true,
                Pending = null,
                HoldsResources = call.Placement is not null && Placement.HoldsResources,
            },
        };
    }

    private AccountSupervision<TCall> AskWhereToRun(List<ISupervisionEffect> fx, TimeSpan now)
    {
        if (!Config.HasRegistry) return (this with { Placement = Placement with { Known = true } }).Settle(fx, now);
        fx.Add(new AskWhereToRun(Incarnation, Placement.Released));
        return this with { Placement = Placement with { AskingSince = Placement.AskingSince ?? now } };
    }

    /// <summary>The registry said where the incarnation runs (null: it holds no placement, so anywhere).</summary>
    private AccountSupervision<TCall> PlacementLearned(string? node, List<ISupervisionEffect> fx, TimeSpan now)
    {
        fx.Add(StopAskingWhereToRun.Instance);
        return (this with { Placement = Placement with { AskingSince = null, Released = null, Known = true, Pending = null, Node = node } }).Settle(fx, now);
    }

    /// <summary>No node has the account's resources free: calls wait until the pending timeout, then fail.</summary>
    private AccountSupervision<TCall> PendingReported(PlacementPendingReported pending, List<ISupervisionEffect> fx, TimeSpan now)
    {
        if (pending.Incarnation != Incarnation || Placement.Known) return this;
        // Timed from the first ask of this wait, on this supervisor's clock; a pending wait already running keeps its start.
        var since = Placement.Pending?.Since ?? Placement.AskingSince ?? now;
        var next = this with { Placement = Placement with { AskingSince = null, Pending = new PendingPlacement(since, pending.Reason) } };
        return next.FailCallsIfPendingTooLong(fx, now);
    }

    private AccountSupervision<TCall> FailCallsIfPendingTooLong(List<ISupervisionEffect> fx, TimeSpan now)
    {
        (TimeSpan Since, string Reason)? waiting = Placement.Pending is { } pending ? (pending.Since, pending.Reason)
            : Placement.AskingSince is { } asking
                ? (asking, $"the registry did not say where account '{Config.Key}' runs within {Config.PendingTimeout.TotalSeconds:0.#} s")
                : null;
        if (waiting is not { } wait || now - wait.Since < Config.PendingTimeout) return this;
        var refusal = new SupervisionRefusal(RefusalKind.ClusterUnreachable, "PendingCreation", wait.Reason);
        return RefuseCalls(c => !c.Sent && c.Caller is not null, refusal, fx).StopIfDrained(fx);
    }

    /// <summary>
    /// The instance stopped: because we moved it, or because its node is gone (then the account is placed again and
    /// the calls it had are resent there with their ids), or because its journal failed.
    /// </summary>
    private AccountSupervision<TCall> InstanceEnded(InstanceStopped stopped, List<ISupervisionEffect> fx, TimeSpan now)
    {
        if (!Instance.Stopping && !stopped.NodeLost) return JournalFailed(fx);
        if (stopped.NodeLost && !Instance.Stopping)
            fx.Add(new LogLine(false, "Account {Key} lost its node {Node}; it is placed again", Config.Key, Instance.Node));

        // Calls in flight go again to the next instance; our own record of restarts is made again by its start.
        var calls = Calls;
        foreach (var (seq, call) in Calls)
        {
            if (call.Caller is null && call.Command is RecordRestarts) calls = calls.Remove(seq);
            else if (call.Sent) calls = calls.SetItem(seq, call with { Sent = false });
        }

        var next = this with
        {
            Calls = calls,
            Instance = Instance with { Running = false, Ready = false, Stopping = false, Node = string.Empty },
        };
        if (stopped.NodeLost || Placement.Released is not null)
        {
            next = next with { Placement = next.Placement with { Known = false, Node = null } };
            if (!next.Placement.HoldsResources && !End.Draining)
                return next.LostPlacement("the node the account ran on is gone", fx, now);
        }

        next = next with { Mode = SupervisorMode.Restarting };
        if (!End.Draining) return next.Settle(fx, now);

        // Passivating or handed off: the next entity answers from the journal; the callers resend with their ids.
        return next.RefuseCalls(_ => true, Refusals.Moving(Config.Key), fx).StopIfDrained(fx);
    }

    /// <summary>
    /// The account stopped itself (its journal failed) and the BackoffSupervisor with it: that is not a crash of the
    /// actor. Calls handed to it may have been journaled before the failure (JournalWriteFailed: resend with the same
    /// id); calls still waiting were not (JournalUnavailable). The entity stops; the next call starts it afresh from the
    /// journal, which is where a resent id is recognised.
    /// </summary>
    private AccountSupervision<TCall> JournalFailed(List<ISupervisionEffect> fx)
    {
        var next = RefuseCalls(c => c.Sent, Refusals.JournalWriteFailed(Config.Key), fx)
            .RefuseCalls(_ => true, Refusals.JournalUnavailable(Config.Key, "stopped because its journal failed"), fx);
        fx.Add(StopSelf.Instance);
        return next;
    }
}
