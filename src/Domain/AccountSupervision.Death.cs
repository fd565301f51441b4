namespace Bank.Domain;

// Crashes and death: the restart budget, the retries of the calls in flight, and the close of a dead incarnation.
public sealed partial record AccountSupervision<TCall>
{
    private AccountSupervision<TCall> Started(InstanceStarted started, List<ISupervisionEffect> fx, TimeSpan now)
    {
        var next = this with
        {
            Instance = Instance with { Ready = true },
            Placement = Placement with { HoldsResources = started.HoldsResources },
            Budget = Budget with { Supervision = started.Supervision },
        };
        // Another incarnation (opened, or reopened with its own budgets): its restarts count from its journal.
        if (started.Incarnation != Incarnation)
            next = next with { Incarnation = started.Incarnation, Budget = next.Budget with { Restarts = started.Restarts } };
        next = next with { Budget = next.Budget with { Restarts = Math.Max(next.Budget.Restarts, started.Restarts) } };

        // Journaled before the waiting calls are resent, so that the count holds wherever the account wakes next.
        if (next.Budget.Restarts > started.Restarts)
            next = next.Track(null, new RecordRestarts(next.Budget.Restarts, next.Budget.LastCause), send: true, fx);

        if (next.Budget.Restarting)
        {
            next = next with { Budget = next.Budget with { Restarting = false } };
            fx.Add(new ReportRestartCompleted(next.Incarnation, next.Budget.Restarts));
        }

        return next.Settle(fx, now);
    }

    private AccountSupervision<TCall> Crashed(InstanceCrashed crashed, List<ISupervisionEffect> fx)
    {
        var next = this with { Budget = Budget with { LastCause = crashed.Cause } };
        var supervision = Budget.Supervision;
        if (!supervision.AllowsRestart(Budget.Restarts)) return next.GiveUp(fx);

        var restarts = Budget.Restarts + 1;
        // An injected crash is what its caller asked for; any other is news for whoever runs the node.
        fx.Add(new LogLine(!crashed.Injected, "Account {Key} crashed ({Cause}); restart {Restarts} of {MaxRestarts} after a backoff",
            Config.Key, crashed.Cause, restarts, Supervision.Describe(supervision.MaxRestarts)));
        var calls = Calls;
        foreach (var (seq, call) in Calls)
        {
            if (!call.Sent) continue;
            if (call.Caller is not { } caller)
            {
                // Our own record of restarts: the next start records the new count instead.
                calls = calls.Remove(seq);
            }
            else if (supervision.AllowsRetry(call.Retries))
            {
                calls = calls.SetItem(seq, call with { Retries = call.Retries + 1, Sent = false });
            }
            else
            {
                calls = calls.Remove(seq);
                fx.Add(new RefuseCall<TCall>(caller, new SupervisionRefusal(RefusalKind.ActorDied, "TaskFailed",
                    $"the actor crashed while handling this call ({crashed.Cause}) and max_task_retries={Supervision.Describe(supervision.MaxTaskRetries)} allows no retry; it was restarted")));
            }
        }

        fx.Add(new ReportRestarting(Incarnation, restarts, crashed.Cause));
        return (next with
        {
            Mode = SupervisorMode.Restarting,
            Calls = calls,
            Budget = next.Budget with { Restarts = restarts, Restarting = true },
        }).StopIfDrained(fx);
    }

    /// <summary>
    /// Restarts are used up: the BackoffSupervisor is stopped before it starts another instance, every waiting call
    /// is answered ActorDied, the close is journaled by a last instance, and the registry records the death.
    /// </summary>
    private AccountSupervision<TCall> GiveUp(List<ISupervisionEffect> fx)
    {
        fx.Add(new LogLine(false, "Account {Key} crashed ({Cause}) with no restarts left (max_restarts={MaxRestarts}): it is dead",
            Config.Key, Budget.LastCause, Supervision.Describe(Budget.Supervision.MaxRestarts)));
        fx.Add(new DropInstance(Instance.Node != Config.Node));
        var next = RefuseCalls(_ => true, DiedOfCrashes(), fx);

        var generation = Instance.Generation + 1;
        fx.Add(new StartCloser(generation));
        var seq = LastSeq + 1;
        var close = new SupervisedCallEntry<TCall>(null, new CloseAccount(MaxRestartsExceeded, Incarnation), Incarnation, Sent: true);
        fx.Add(new SendToCloser<TCall>(seq, close));
        next = next with
        {
            Mode = SupervisorMode.Dead,
            CrashesToInject = 0,
            LastSeq = seq,
            Calls = next.Calls.Add(seq, close),
            Instance = Instance with { Running = false, Generation = generation },
            End = End with { Closed = false, FailureRecorded = !Config.HasRegistry, Passivating = false },
        };

        // Resent until the registry answers: the death must reach it even across a handover of its singleton.
        if (Config.HasRegistry) fx.Add(StartFailureReports.Instance);
        return next;
    }

    /// <summary>No restarts left: every call is answered ActorDied while the journal and the registry learn of it.</summary>
    private AccountSupervision<TCall> WhenDead(ISupervisionInput input, List<ISupervisionEffect> fx)
    {
        switch (input)
        {
            case CallArrived<TCall> call:
                return DeadCall(call, fx);
            case InstanceAnswered answered:
                if (!Calls.TryGetValue(answered.Seq, out var entry)) return this;
                var next = this with { Calls = Calls.Remove(answered.Seq) };
                if (entry.Caller is { } caller)
                {
                    fx.Add(new DeliverAnswer<TCall>(caller));
                    return next.PassivateWhenSettled(fx);
                }

                // The close is journaled: the calls kept for the closed account go to it now.
                fx.Add(StashEffect.GiveBack);
                return (next with { End = End with { Closed = true } }).PassivateWhenSettled(fx);
            case FailureRecorded recorded:
                if (recorded.Incarnation != Incarnation) return this;
                fx.Add(StopFailureReports.Instance);
                return (this with { End = End with { FailureRecorded = true } }).PassivateWhenSettled(fx);
            case FailureReportDue:
                fx.Add(new ReportFailure(Incarnation, Budget.Restarts, Budget.LastCause));
                return this;
            case CrashesRequested:
                fx.Add(new RefuseSender(DiedOfCrashes()));
                return this;
            case StopRequested:
                fx.Add(StopSelf.Instance);
                return this;
            case InstanceStartedThere:
                // Placement news for the incarnation that died: an instance another node started late is stopped.
                fx.Add(StopSender.Instance);
                return this;
            case CloserStopped:
                return CloserFailed(fx);
            case ProbeArrived or InstanceStarted or InstanceCrashed or PassivationRequested or PlacementAnswered
                or PlacementPendingReported or PlacementAskDue or StartThereTimedOut or InstanceStopped:
                return this;
            default:
                fx.Add(NotHandled.Instance);
                return this;
        }
    }

    private AccountSupervision<TCall> DeadCall(CallArrived<TCall> call, List<ISupervisionEffect> fx)
    {
        switch (call.Command)
        {
            // Passivation is under way: the shard holds the call and gives it to the next instance of the entity.
            case OpenAccount or Refund or FindApplied or ReleaseRequests when End.Passivating:
                fx.Add(new ReturnToShard<TCall>(call.Caller));
                return this;
            // A new incarnation may be opened on the key once the dead one's close is journaled: a fresh entity
            // serves it, so this one passivates and the shard hands the open to its successor.
            case OpenAccount open when open.Incarnation != Incarnation:
                if (!End.Closed)
                {
                    fx.Add(StashEffect.Keep);
                    return this;
                }

                var next = (this with { End = End with { FailureRecorded = true } }).PassivateWhenSettled(fx, force: true);
                fx.Add(new ReturnToShard<TCall>(call.Caller));
                return next;
            // Money owed, and questions about applied calls, are answered by the closed account.
            case Refund or FindApplied or ReleaseRequests:
                if (!End.Closed)
                {
                    fx.Add(StashEffect.Keep);
                    return this;
                }

                var seq = LastSeq + 1;
                var entry = new SupervisedCallEntry<TCall>(call.Caller, call.Command, Incarnation, Sent: true);
                fx.Add(new SendToCloser<TCall>(seq, entry));
                return this with { LastSeq = seq, Calls = Calls.Add(seq, entry) };
            default:
                fx.Add(new RefuseCall<TCall>(call.Caller, DiedOfCrashes()));
                return this;
        }
    }

    /// <summary>
    /// The last instance failed (its journal, most likely) before it journaled the close: the calls it holds are told
    /// to try again, and the next call starts a fresh entity that reads the journal.
    /// </summary>
    private AccountSupervision<TCall> CloserFailed(List<ISupervisionEffect> fx)
    {
        if (End.Closed) return this;
        var next = RefuseCalls(c => c.Sent, Refusals.JournalWriteFailed(Config.Key), fx)
            .RefuseCalls(_ => true, Refusals.JournalUnavailable(Config.Key, "could not journal its close"), fx);
        fx.Add(StashEffect.Drop);
        fx.Add(StopSelf.Instance);
        return next;
    }

    /// <summary>Passivates once the close is journaled, the registry knows, and no call waits on the last instance.</summary>
    private AccountSupervision<TCall> PassivateWhenSettled(List<ISupervisionEffect> fx, bool force = false)
    {
        if (!End.Closed || !End.FailureRecorded || End.Passivating || (!force && !Calls.IsEmpty)) return this;
        fx.Add(AskShardToPassivate.Instance);
        return this with { End = End with { Passivating = true } };
    }

    /// <summary>The answer to every call of a dead incarnation.</summary>
    public SupervisionRefusal DiedOfCrashes() => new(RefusalKind.ActorDied, MaxRestartsExceeded,
        $"the actor of account '{Config.Key}' died: it crashed ({Budget.LastCause}) with no restarts left (max_restarts={Supervision.Describe(Budget.Supervision.MaxRestarts)})");
}

/// <summary>Refusals a supervisor gives in more than one place.</summary>
public static class Refusals
{
    /// <summary>The account is moving (passivation, hand-off, another node): the caller resends with its request id.</summary>
    public static SupervisionRefusal Moving(string key) =>
        new(RefusalKind.ClusterUnreachable, "Moving", $"account '{key}' is moving; try again");

    /// <summary>
    /// The journal failed before this call was handed to the account: certainly not done, try again (ISSUE17's
    /// "certainly not done" codes; the client's retry policy keeps the set).
    /// </summary>
    public static SupervisionRefusal JournalUnavailable(string key, string why) =>
        new(RefusalKind.ClusterUnreachable, "JournalUnavailable", $"account '{key}' {why}; nothing of this call was written; try again");

    /// <summary>
    /// The journal failed while this call was with the account: its write may be committed (a "maybe done" code), so
    /// only a resend with the same request id is safe.
    /// </summary>
    public static SupervisionRefusal JournalWriteFailed(string key) =>
        new(RefusalKind.ClusterUnreachable, "JournalWriteFailed",
            $"account '{key}' could not confirm its journal write; it may have been applied: resend with the same request id");
}
