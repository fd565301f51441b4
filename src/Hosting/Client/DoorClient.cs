using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Client;

/// <summary>
/// A client's way in through the nodes' client doors (TLS): takes what <see cref="ClusterClientGateway"/> sends
/// (ClusterClient.Send), wraps the request with this client's credential and sends it to a door, whose answers come
/// straight back to the asker. On a broken connection to a door it moves to the next one given.
/// </summary>
internal sealed class DoorClient : ReceiveActor
{
    private readonly IReadOnlyList<ActorPath> _doors;
    private int _current;
    private ActorSelection _door;

    public DoorClient(IReadOnlyList<ActorPath> doors, string credential)
    {
        _doors = doors;
        _door = Context.ActorSelection(doors[0]);
        Context.System.EventStream.Subscribe(Self, typeof(Akka.Remote.DisassociatedEvent));
        Context.System.EventStream.Subscribe(Self, typeof(Akka.Remote.AssociationErrorEvent));
        Receive<ClusterClient.Send>(send => _door.Tell(new Credentialed(credential, (IBankMessage)send.Message), Sender));
        Receive<Akka.Remote.DisassociatedEvent>(lost => Next(lost.RemoteAddress));
        Receive<Akka.Remote.AssociationErrorEvent>(lost => Next(lost.RemoteAddress));
    }

    public static Props PropsFor(IReadOnlyList<ActorPath> doors, string credential) =>
        Props.Create(() => new DoorClient(doors, credential));

    /// <summary>The next door, when the current one's connection broke; resends are the gateway's (same request ids).</summary>
    private void Next(Address lost)
    {
        if (_doors.Count < 2 || !_doors[_current].Address.Equals(lost)) return;
        _current = (_current + 1) % _doors.Count;
        _door = Context.ActorSelection(_doors[_current]);
        Context.System.EventStream.Publish(new ClusterLink.LinkMoved(lost));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
