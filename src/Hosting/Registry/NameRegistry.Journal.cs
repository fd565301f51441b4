using Akka.Actor;
using Bank.Domain;

namespace Bank.Hosting.Registry;

// How the registry journals: it keeps deciding while its writes are in flight, and answers nothing before what it
// answers from is durable. Akka.Persistence sends an actor's writes one batch at a time and stops the actor at the
// first that fails, so no decision taken after a lost write is ever written or answered.
public sealed partial class NameRegistry
{
    /// <summary>
    /// Carries out a decision: its changes and events at once (the next decision sees them), its events journaled, and
    /// its answers, creates and closes once everything it was decided on is durable.
    /// <paramref name="applied"/>: the events are already applied (the orphans of recovery).
    /// </summary>
    private void Execute(RegistryDecision decision, IActorRef sender, (string? Id, string Request)? asked = null, bool applied = false)
    {
        ReleasePlacements(decision);
        foreach (var change in decision.Changes) _state = _state.Apply(change);
        if (decision is { Waits: true, Open: { } waited }) _opens.Wait(waited, sender);
        if (decision.Events.Count == 0)
        {
            // Decided on a state that may hold writes still in flight: finished after them (at once when there are none).
            DeferAsync(decision, taken => Finish(taken, sender, asked));
            return;
        }

        Write(decision.Events, applied, () => Finish(decision, sender, asked));
    }

    /// <summary>
    /// Applies the events now and journals them without holding the mailbox; <paramref name="durable"/> runs once the
    /// last of them is written, after every write queued before them.
    /// </summary>
    private void Write(IReadOnlyList<IRegistryEvent> events, bool applied, Action durable)
    {
        if (!applied)
            foreach (var evt in events) _state = _state.Apply(evt);
        // The table as of the last event's sequence number, what a snapshot taken there holds (later events are not in it).
        var written = _state;
        var last = events[^1];
        PersistAllAsync(events, evt =>
        {
            if (!ReferenceEquals(evt, last)) return;
            MaybeSnapshot(written);
            durable();
        });
    }

    private void Finish(RegistryDecision decision, IActorRef sender, (string? Id, string Request)? asked)
    {
        Publish();
        if (decision is { Open: { } name, OpenersReply: { } toOpeners })
        {
            var reply = ToMessage(toOpeners);
            var open = _opens.ReplyAll(name, reply);
            if (open is not null && toOpeners is not RegistryRefusal { Code: DeathCauses.OwnerDied })
                _replies.Remember(open.RequestId, ClientRequests.Of(open), reply);
        }

        if (decision is { Create: true, Open: { } created }) Create(created);
        var closing = _closer.CloseAllAsync(decision.Closes);
        if (decision.Reply is not { } answer) return;
        var message = ToMessage(answer);
        IEnumerable<IActorRef> askers = asked is { } request ? [sender, .. _replies.Remember(request.Id, request.Request, message)] : [sender];
        foreach (var asker in askers)
            if (decision.Closes.Count == 0) asker.Tell(message);
            else closing.PipeTo(asker, success: () => message);
    }

    /// <summary>Sends <paramref name="answer"/>, read from the table now, once the writes it may show are durable.</summary>
    private void AnswerWhenDurable(object answer)
    {
        var asker = Sender;
        DeferAsync(answer, durable => asker.Tell(durable));
    }

    /// <param name="written">The table as of <see cref="Akka.Persistence.Eventsourced.LastSequenceNr"/>, the event just written.</param>
    private void MaybeSnapshot(RegistryState written)
    {
        if (!_snapshots.IsDue(LastSequenceNr)) return;
        _snapshots = _snapshots.Taken(LastSequenceNr, written.SnapshotSize);
        SaveSnapshot(written.ToSnapshot());
    }

    /// <summary>
    /// A rejected event was not written, but later decisions were taken on it: the registry stops (its supervisor
    /// starts it again) and recovers only what the journal holds. A failed write stops it already (Akka.Persistence).
    /// </summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Stop(Self);
    }
}
