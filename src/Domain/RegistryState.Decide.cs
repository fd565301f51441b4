namespace Bank.Domain;

public sealed partial record RegistryState
{
    public RegistryDecision Decide(IRegistryCommand command, DateTimeOffset now) => command switch
    {
        OpenName open => DecideOpen(open, now),
        ConfirmCreation confirmed => DecideConfirm(confirmed, now),
        FailCreation failed => DecideFail(failed, now),
        AbandonOpen abandoned => DecideAbandon(abandoned),
        KillName kill => DecideKill(kill, now),
        CompleteRestart completed => LiveByKey(completed.Key, completed.Id) is { } actor && actor.Restarts < completed.Restarts
            ? new RegistryDecision { Events = [new ActorRestartRecorded(actor.Name, actor.Id, completed.Restarts)] }
            : RegistryDecision.Nothing,
        ExhaustRestarts exhausted => LiveByKey(exhausted.Key, exhausted.Id) is { } actor
            ? new RegistryDecision
            {
                Events =
                [
                    new ActorRestartRecorded(actor.Name, actor.Id, exhausted.Restarts),
                    new ActorDeathRecorded(actor.Name, actor.Id, DeathCauses.MaxRestartsExceeded, now),
                ],
            }
            : RegistryDecision.Nothing,
        EndOwner ended => DecideEndOwner(ended, now),
        ReleaseGoneOwners release => OwnerDeaths(Live.Values.Where(a => !a.Detached && a.Owner is { } owner && release.IsGone(owner)), now),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown registry command"),
    };

    /// <summary>The refusal of a name held by a live actor or an open under way.</summary>
    public static RegistryRefusal NameTaken(string name) =>
        new(RegistryRefusalKind.AlreadyExists, "AlreadyExists", $"Actor with name '{name}' already exists");

    /// <summary>The refusal of an open whose session ended before its actor started.</summary>
    public static RegistryRefusal OwnerEndedFirst(string name) =>
        new(RegistryRefusalKind.ActorDied, DeathCauses.OwnerDied, $"the session that opened '{name}' ended before the actor started");

    private RegistryDecision DecideOpen(OpenName open, DateTimeOffset now)
    {
        var problem = Names.ValidateActorName(open.Name) ?? (open.Key is null ? null : Names.ValidateAccountKey(open.Key))
            ?? new Supervision(open.MaxRestarts, open.MaxTaskRetries).Validate() ?? Placement.Validate(open.Resources);
        if (problem is not null) return RegistryDecision.Refuse(RegistryRefusalKind.Usage, "Usage", problem);

        if (Find(open.Name) is { } live)
            return open.GetIfExists ? RegistryDecision.Answer(live) : RegistryDecision.Answer(NameTaken(open.Name));

        // Reserved while its account is being created: a get-if-exists or a resent request waits for the same answer.
        if (Pending.TryGetValue(open.Name, out var pending))
            return open.GetIfExists || (open.RequestId is not null && open.RequestId == pending.RequestId)
                ? new RegistryDecision { Open = open.Name, Waits = true }
                : RegistryDecision.Answer(NameTaken(open.Name));

        var key = open.Key ?? open.NewKey;
        if ((NameUsingKey(key) ?? Pending.Values.FirstOrDefault(p => p.Key == key)?.Name) is { } holder)
            return RegistryDecision.Refuse(RegistryRefusalKind.AlreadyExists, "KeyInUse", $"Account key '{key}' is in use by actor '{holder}'");

        var reserved = new PendingOpen(open.Name, key, open.NewId, open.RequestId, open.Detached, open.Owner, open.MaxRestarts,
            open.MaxTaskRetries, open.Resources, now);
        // One that holds resources is created once placement found it a node; one that holds none at once.
        return new RegistryDecision { Changes = [new OpenReserved(reserved)], Open = open.Name, Create = open.Resources.IsEmpty };
    }

    private RegistryDecision DecideConfirm(ConfirmCreation confirmed, DateTimeOffset now)
    {
        if (!Pending.TryGetValue(confirmed.Name, out var open) || open.Id != confirmed.Id) return RegistryDecision.Nothing;
        if (open.OwnerEnded)
        {
            // The session ended while its actor was being created: it dies as it is born, and is never registered.
            return new RegistryDecision
            {
                Changes = [new OpenEnded(open.Name)],
                Closes = [new AccountToClose(open.Key, open.Id, open.Name, DeathCauses.OwnerDied)],
                Open = open.Name,
                OpenersReply = OwnerEndedFirst(open.Name),
            };
        }

        var info = open.ToInfo(ActorState.Alive, open.Node ?? confirmed.Node, now);
        return new RegistryDecision { Events = [new ActorRegistered(info)], Open = open.Name, OpenersReply = info };
    }

    /// <summary>No node took the open in time: it is recorded, and DEAD with CREATION_FAILED.</summary>
    private RegistryDecision DecideFail(FailCreation failed, DateTimeOffset now)
    {
        if (!Pending.TryGetValue(failed.Name, out var open)) return RegistryDecision.Nothing;
        return new RegistryDecision
        {
            Events =
            [
                new ActorRegistered(open.ToInfo(ActorState.Alive, string.Empty, open.Since)),
                new ActorDeathRecorded(open.Name, open.Id, DeathCauses.CreationFailed, now),
            ],
            Open = open.Name,
            OpenersReply = new RegistryRefusal(RegistryRefusalKind.ActorDied, DeathCauses.CreationFailed, failed.Reason),
        };
    }

    /// <summary>The open ends unregistered: its session ended (OWNER_DIED), or its account refused (the actor answers).</summary>
    private RegistryDecision DecideAbandon(AbandonOpen abandoned) =>
        Pending.TryGetValue(abandoned.Name, out var open)
            ? new RegistryDecision
            {
                Changes = [new OpenEnded(open.Name)],
                Open = open.Name,
                OpenersReply = abandoned.AccountRefused ? null : OwnerEndedFirst(open.Name),
            }
            : RegistryDecision.Nothing;

    private RegistryDecision DecideKill(KillName kill, DateTimeOffset now)
    {
        if (Find(kill.Name) is not { } actor)
            return RegistryDecision.Refuse(RegistryRefusalKind.NotFound, "ActorNotFound", $"no actor named '{kill.Name}'");
        if (kill.Id is not null && kill.Id != actor.Id)
            return RegistryDecision.Refuse(RegistryRefusalKind.ActorDied, "ActorDied",
                $"actor '{kill.Name}' ({kill.Id}) is dead; the name now belongs to {actor.Id}");

        // Answered once the account has ended the incarnation, so a handle from before the kill is already dead.
        return new RegistryDecision
        {
            Events = [new ActorDeathRecorded(actor.Name, actor.Id, kill.Cause, now)],
            Closes = [new AccountToClose(actor.Key, actor.Id, actor.Name, kill.Cause)],
            Reply = actor with { State = ActorState.Dead, DeathCause = kill.Cause, DiedAt = now },
        };
    }

    private RegistryDecision DecideEndOwner(EndOwner ended, DateTimeOffset now)
    {
        var orphaned = Pending.Values.Where(p => !p.Detached && p.Owner == ended.Owner).Select(p => (IPendingChange)new OpenOrphaned(p.Name)).ToList();
        var victims = Live.Values.Where(a => !a.Detached && a.Owner == ended.Owner).ToList();
        return OwnerDeaths(victims, now) with { Changes = orphaned, Reply = new OwnerActorsReleased(ended.Owner, victims.Count) };
    }

    private static RegistryDecision OwnerDeaths(IEnumerable<ActorInfo> victims, DateTimeOffset now)
    {
        var dying = victims.ToList();
        return new RegistryDecision
        {
            Events = [.. dying.Select(a => new ActorDeathRecorded(a.Name, a.Id, DeathCauses.OwnerDied, now))],
            Closes = [.. dying.Select(a => new AccountToClose(a.Key, a.Id, a.Name, DeathCauses.OwnerDied))],
        };
    }
}
