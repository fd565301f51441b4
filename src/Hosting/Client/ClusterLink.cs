using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Remote;

namespace Bank.Hosting.Client;

/// <summary>
/// A client's ClusterClient that changes node at once when the connection to a node drops (the node was killed, its
/// process paused past the transport's patience): it passes everything to its current ClusterClient, and on a lost
/// connection starts a new one from the contact points the cluster last gave. Akka's ClusterClient alone keeps sending
/// to a dead node until its own failure detector gives up on it (about 15 s); the gateway resends the calls in flight
/// (same ids) as soon as the connection drops, and this new ClusterClient carries them to a live node.
/// </summary>
internal sealed class ClusterLink : ReceiveActor
{
    /// <summary>Published once a client's link has left the node at <paramref name="Lost"/>: calls in flight may go again.</summary>
    public sealed record LinkMoved(Address Lost);

    private readonly ClusterClientSettings _settings;
    private ImmutableHashSet<ActorPath> _contacts;
    private IActorRef _client;
    private int _generation;

    public ClusterLink(ClusterClientSettings settings)
    {
        _settings = settings;
        _contacts = settings.InitialContacts.ToImmutableHashSet();
        _client = Start();
        Receive<ContactPoints>(points => Learn(points.ContactPointsList));
        Receive<ContactPointAdded>(added => _contacts = _contacts.Add(added.ContactPoint));
        Receive<ContactPointRemoved>(removed => _contacts = _contacts.Count > 1 ? _contacts.Remove(removed.ContactPoint) : _contacts);
        Receive<DisassociatedEvent>(lost => Reconnect(lost.RemoteAddress));
        ReceiveAny(message => _client.Forward(message));
    }

    public static Props PropsFor(ClusterClientSettings settings) => Props.Create(() => new ClusterLink(settings));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Learn(IImmutableSet<ActorPath> points)
    {
        if (points.Count > 0) _contacts = points.ToImmutableHashSet();
    }

    /// <summary>A lost node's connection: a new ClusterClient, which asks the other contact points for a receptionist.</summary>
    private void Reconnect(Address lost)
    {
        if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null) return;
        if (!_contacts.Any(c => c.Address.Equals(lost)) && !_settings.InitialContacts.Any(c => c.Address.Equals(lost))) return;
        Context.Stop(_client);
        var others = _contacts.Where(c => !c.Address.Equals(lost)).ToImmutableHashSet();
        _client = Start(others.IsEmpty ? _contacts : others);
        // Only now: calls resent before this line would have gone to the old ClusterClient, towards the dead node.
        Context.System.EventStream.Publish(new LinkMoved(lost));
    }

    private IActorRef Start(ImmutableHashSet<ActorPath>? contacts = null)
    {
        var client = Context.ActorOf(ClusterClient.Props(_settings.WithInitialContacts(contacts ?? _contacts)), $"cluster-client-{_generation++}");
        client.Tell(SubscribeContactPoints.Instance, Self);
        return client;
    }
}
