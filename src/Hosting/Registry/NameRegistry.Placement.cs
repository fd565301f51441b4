using Akka.Actor;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

// The registry's side of placement: it tells the placement coordinator what its actors hold and carries out where the
// coordinator places them. The coordinator decides; the registry journals.
public sealed partial class NameRegistry
{
    /// <summary>Live actors (by incarnation id) that lost their node and wait for one: shown PENDING_CREATION.</summary>
    private readonly HashSet<string> _unplaced = new(StringComparer.Ordinal);

    private IActorRef? _coordinator;

    /// <summary>The placement coordinator's proxy; nobody on a node that runs no placement.</summary>
    private IActorRef Coordinator =>
        (_coordinator ??= ActorRegistry.For(Context.System).TryGet<PlacementCoordinatorKey>(out var coordinator) ? coordinator : null)
        ?? ActorRefs.Nobody;

    private void PlacementCommands()
    {
        Command<PlaceOpenOn>(placed =>
        {
            if (PendingById(placed.Id) is not { WaitsForNode: true } open)
            {
                // The open ended meanwhile: what the coordinator reserved for it is free again.
                if (PendingById(placed.Id) is null) Coordinator.Tell(new ReleasePlacement(placed.Id));
                return;
            }

            _state = _state.Apply(new OpenPlaced(open.Name, placed.Node));
            // After the writes in flight: a death being written must reach the journal before its key's next account starts.
            DeferAsync(open.Name, Create);
        });
        Command<FailUnplacedOpen>(failed =>
        {
            if (PendingById(failed.Id) is { WaitsForNode: true } open)
                Execute(_state.Decide(new FailCreation(open.Name, failed.Reason), DateTimeOffset.UtcNow), ActorRefs.Nobody);
        });
        Command<RecordPlacement>(Record);
        Command<PlacementLost>(lost =>
        {
            if (_state.Live.Values.Any(a => a.Id == lost.Id)) _unplaced.Add(lost.Id);
        });
        Command<GetKnownPlacements>(_ => Sender.Tell(KnownPlacements()));
        Command<WhereToRun>(where =>
        {
            if (Coordinator.IsNobody()) Sender.Tell(new NotPlaced(where.Key, where.Incarnation));
            else Coordinator.Forward(where);
        });
    }

    /// <summary>An open that holds resources waits for the coordinator to find it a node.</summary>
    private void Reserve(PendingOpen open) =>
        Coordinator.Tell(new ReservePlacement(open.Id, open.Name, open.Key, open.Resources.Amounts, open.Since));

    private bool IsUnplaced(string id) => _unplaced.Contains(id);

    /// <summary>What the decision ends frees what those actors and opens held (before it is applied).</summary>
    private void ReleasePlacements(RegistryDecision decision)
    {
        foreach (var death in decision.Events.OfType<ActorDeathRecorded>())
        {
            if (_state.Find(death.Name) is not { Resources: not null } actor || actor.Id != death.Id) continue;
            _unplaced.Remove(actor.Id);
            Coordinator.Tell(new ReleasePlacement(actor.Id));
        }

        foreach (var ended in decision.Changes.OfType<OpenEnded>())
            if (_state.Pending.TryGetValue(ended.Name, out var open) && !open.Resources.IsEmpty)
                Coordinator.Tell(new ReleasePlacement(open.Id));
    }

    /// <summary>A live actor was placed again: journaled, then the coordinator hears it is recorded.</summary>
    private void Record(RecordPlacement record)
    {
        var coordinator = Sender;
        if (_state.Find(record.Name) is not { } actor || actor.Id != record.Id)
        {
            coordinator.Tell(new PlacementRecorded(record.Id));
            return;
        }

        _unplaced.Remove(actor.Id);
        Write([new ActorPlaced(actor.Name, actor.Id, record.Node)], applied: false, () => coordinator.Tell(new PlacementRecorded(record.Id)));
    }

    /// <summary>What the actors that hold resources hold: live ones on their node (none while unplaced), and the opens.</summary>
    private KnownPlacements KnownPlacements() => new([
        .. _state.Live.Values.Where(a => a.Resources is not null).Select(a => _unplaced.Contains(a.Id) ? a with { Node = string.Empty } : a),
        .. _state.Pending.Values.Where(p => !p.Resources.IsEmpty).Select(p => p.ToInfo(ActorState.PendingCreation, p.Node ?? string.Empty, p.Since)),
    ]);

    private PendingOpen? PendingById(string id) => _state.Pending.Values.FirstOrDefault(p => p.Id == id);
}
