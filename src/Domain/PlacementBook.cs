using System.Collections.Immutable;

namespace Bank.Domain;

/// <summary>The cluster as placement sees it: members (not yet gone), the Up ones, and those unreachable now.</summary>
public sealed record PlacementNodes(IReadOnlySet<string> Members, IReadOnlySet<string> Up, IReadOnlySet<string> Unreachable);

/// <summary>
/// What one actor holds, by incarnation id: on <see cref="Node"/>, or on no node while it waits for one that fits (since
/// <see cref="Since"/>, a monotonic reading of the coordinator's own clock from when IT saw the wait begin: never an instant
/// from another process). <see cref="IsOpen"/>: an open that was never placed; it fails after the pending timeout, while
/// a live actor whose node left waits as long as it takes.
/// </summary>
public sealed record Reservation(string Id, string Name, string Key, ResourceSet Resources, string? Node, TimeSpan Since, bool IsOpen);

/// <summary>What the placement of a waiting reservation came to, for the registry.</summary>
public abstract record PlacementOutcome(string Id);

/// <summary>The open found a node with its resources free: its account is created there.</summary>
public sealed record OpenPlacedOn(string Id, string Node) : PlacementOutcome(Id);

/// <summary>No node took the open within the pending timeout: it fails with CREATION_FAILED for <see cref="Reason"/>.</summary>
public sealed record OpenUnplaceable(string Id, string Reason) : PlacementOutcome(Id);

/// <summary>A live actor whose node left is placed again, on <see cref="Node"/>.</summary>
public sealed record ActorMovedTo(string Id, string Name, string Node) : PlacementOutcome(Id);

/// <summary>A live actor lost its node (it left, or is leaving) and waits for one that fits.</summary>
public sealed record ActorUnplaced(string Id) : PlacementOutcome(Id);

/// <summary>Where an incarnation runs, as its account asks (<see cref="PlacementBook.Where"/>).</summary>
public abstract record WhereAnswer;

/// <summary>It holds no placement (not live, or asked for nothing): it runs wherever its entity is.</summary>
public sealed record RunsAnywhere : WhereAnswer;

/// <summary>It runs on <see cref="Node"/>; <see cref="Moved"/>: it was just placed there, which the registry records first.</summary>
public sealed record RunsOn(string Node, bool Moved) : WhereAnswer;

/// <summary>No node has its resources free for <see cref="Waited"/> now, for <see cref="Reason"/>.</summary>
public sealed record WaitsForNode(string Reason, TimeSpan Waited) : WhereAnswer;

/// <summary>What the actors hold on one node, and how many hold something there.</summary>
public sealed record NodeHeld(string Node, ResourceSet Used, int Placed);

/// <summary>
/// The placement coordinator's book: what every node advertises (from its own report), the nodes shutting down, and what
/// every actor that asked for resources holds, and where. Immutable; time and the cluster's members are inputs. It is
/// never journaled: after a failover it is rebuilt from the registry's live actors (<see cref="Rebuilt"/>), which carry
/// their node and resources, and from the nodes' reports. Every <c>now</c> is a monotonic reading, never the wall clock.
/// </summary>
public sealed record PlacementBook(
    ImmutableDictionary<string, ResourceSet> Capacities,
    ImmutableHashSet<string> Departing,
    ImmutableDictionary<string, Reservation> Reservations)
{
    public static readonly PlacementBook Empty = new(
        ImmutableDictionary.Create<string, ResourceSet>(StringComparer.Ordinal),
        ImmutableHashSet.Create<string>(StringComparer.Ordinal),
        ImmutableDictionary.Create<string, Reservation>(StringComparer.Ordinal));

    /// <summary>A node reported what it advertises; only an Up node's report counts.</summary>
    public PlacementBook Reported(string node, ResourceSet resources, PlacementNodes nodes) =>
        nodes.Up.Contains(node) ? this with { Capacities = Capacities.SetItem(node, resources) } : this;

    /// <summary>A node came Up: one that came back on the same address may advertise other resources, so it reports again.</summary>
    public PlacementBook NodeUp(string node) => this with { Capacities = Capacities.Remove(node) };

    /// <summary>Up nodes whose resources are not known yet.</summary>
    public IEnumerable<string> Unreported(PlacementNodes nodes) => nodes.Up.Where(node => !Capacities.ContainsKey(node));

    /// <summary>The reservations are what the registry says its actors hold (after a failover of either).</summary>
    public PlacementBook Rebuilt(IEnumerable<Reservation> reservations) =>
        this with { Reservations = Empty.Reservations.SetItems(reservations.Select(r => KeyValuePair.Create(r.Id, r))) };

    public PlacementBook Reserved(Reservation reservation) => this with { Reservations = Reservations.SetItem(reservation.Id, reservation) };

    public PlacementBook Released(string id) => this with { Reservations = Reservations.Remove(id) };

    /// <summary>
    /// Members changed: nodes that are gone are forgotten, and the actors on them lose their node (they wait for one
    /// that fits, from <paramref name="now"/>).
    /// </summary>
    public (PlacementBook Book, IReadOnlyList<PlacementOutcome> Lost) MembersChanged(PlacementNodes nodes, TimeSpan now)
    {
        var lost = Reservations.Values.Where(r => r.Node is { } node && !nodes.Members.Contains(node)).ToList();
        var book = this with
        {
            Capacities = Capacities.RemoveRange(Capacities.Keys.Where(node => !nodes.Members.Contains(node))),
            Departing = Departing.Except(Departing.Where(node => !nodes.Members.Contains(node))),
            Reservations = Reservations.SetItems(lost.Select(r => KeyValuePair.Create(r.Id, r with { Node = null, Since = now, IsOpen = false }))),
        };
        return (book, [.. lost.Select(r => new ActorUnplaced(r.Id))]);
    }

    /// <summary>Nodes a new placement may choose: Up, reachable, not shutting down, and with their resources known.</summary>
    public List<NodeCapacity> Candidates(PlacementNodes nodes) =>
        [.. nodes.Up
            .Where(node => !nodes.Unreachable.Contains(node) && !Departing.Contains(node) && Capacities.ContainsKey(node))
            .Order(StringComparer.Ordinal)
            .Select(node => new NodeCapacity(node, Capacities[node], Used(node)))];

    /// <summary>What the actors placed on a node hold there.</summary>
    public ResourceSet Used(string node) =>
        Reservations.Values.Where(r => r.Node == node).Aggregate(ResourceSet.Empty, (sum, r) => sum.Plus(r.Resources));

    /// <summary>
    /// An open to place: on a node that has its resources free now, else it waits. An open asked again (a resent open)
    /// keeps what it has: placing it twice could choose a second node while the registry creates it on the first.
    /// </summary>
    public (PlacementBook Book, PlacementOutcome? Placed) Place(Reservation open, PlacementNodes nodes) =>
        Reservations.TryGetValue(open.Id, out var known)
            ? (this, known.Node is { } placedOn ? new OpenPlacedOn(open.Id, placedOn) : null)
            : Placement.Choose(Candidates(nodes), open.Resources) is { } node
            ? (Reserved(open with { Node = node, IsOpen = false }), new OpenPlacedOn(open.Id, node))
            : (Reserved(open with { Node = null, IsOpen = true }), null);

    /// <summary>
    /// Places what waits, oldest first: opens (which fail after <paramref name="pendingTimeout"/>), then live actors whose
    /// node left (they wait as long as it takes). Each placement holds its resources before the next is chosen.
    /// </summary>
    public (PlacementBook Book, IReadOnlyList<PlacementOutcome> Outcomes) Retry(PlacementNodes nodes, TimeSpan now, TimeSpan pendingTimeout)
    {
        var book = this;
        var outcomes = new List<PlacementOutcome>();
        var waiting = Reservations.Values.Where(r => r.Node is null)
            .OrderBy(r => r.IsOpen ? 0 : 1).ThenBy(r => r.Since).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        foreach (var reservation in waiting)
        {
            if (Placement.Choose(book.Candidates(nodes), reservation.Resources) is { } node)
            {
                book = book.Reserved(reservation with { Node = node, IsOpen = false });
                outcomes.Add(reservation.IsOpen ? new OpenPlacedOn(reservation.Id, node) : new ActorMovedTo(reservation.Id, reservation.Name, node));
            }
            else if (reservation.IsOpen && now - reservation.Since >= pendingTimeout)
            {
                book = book.Released(reservation.Id);
                outcomes.Add(new OpenUnplaceable(reservation.Id,
                    Placement.NoNodeFits(reservation.Name, reservation.Resources, book.Candidates(nodes), now - reservation.Since)));
            }
        }

        return (book, outcomes);
    }

    /// <summary>
    /// An account asks where its incarnation runs. <paramref name="leaving"/>: a node whose PlacedInstances released the instance
    /// because it is shutting down; no new placement goes there. An actor whose node is leaving or gone is placed again.
    /// </summary>
    public (PlacementBook Book, WhereAnswer Answer) Where(string key, string id, string? leaving, PlacementNodes nodes, TimeSpan now)
    {
        var book = leaving is null ? this : this with { Departing = Departing.Add(leaving) };
        if (!book.Reservations.TryGetValue(id, out var reservation) || reservation.Key != key || reservation is { IsOpen: true, Node: null })
            return (book, new RunsAnywhere());

        if (reservation.Node is { } current)
        {
            if (!book.Departing.Contains(current) && nodes.Up.Contains(current)) return (book, new RunsOn(current, Moved: false));
            reservation = reservation with { Node = null, Since = now };
            book = book.Reserved(reservation);
        }

        if (Placement.Choose(book.Candidates(nodes), reservation.Resources) is not { } node)
            return (book, new WaitsForNode(
                Placement.NoNodeFits(reservation.Name, reservation.Resources, book.Candidates(nodes), now - reservation.Since), now - reservation.Since));
        return (book.Reserved(reservation with { Node = node }), new RunsOn(node, Moved: true));
    }

    /// <summary>
    /// A move the registry did not journal is undone: the actor waits for a node again, so the next question places it
    /// again and asks the registry to record that, instead of answering a node nothing recorded.
    /// </summary>
    public PlacementBook MoveNotRecorded(string id) =>
        Reservations.TryGetValue(id, out var reservation) && reservation.Node is not null
            ? Reserved(reservation with { Node = null })
            : this;

    /// <summary>What is held on every Up node and every node an actor holds something on, and how many wait for a node.</summary>
    public (IReadOnlyList<NodeHeld> Nodes, int Waiting) Held(PlacementNodes nodes)
    {
        var placed = Reservations.Values.Where(r => r.Node is not null).ToList();
        var held = nodes.Up.Concat(placed.Select(r => r.Node!)).Distinct(StringComparer.Ordinal)
            .Select(node => new NodeHeld(node, Used(node), placed.Count(r => r.Node == node)))
            .ToList();
        return (held, Reservations.Count - placed.Count);
    }

    /// <summary>Is this incarnation waiting for a node (shown PENDING_CREATION)?</summary>
    public bool IsWaiting(string id) => Reservations.TryGetValue(id, out var r) && r.Node is null;
}
