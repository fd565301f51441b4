using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;

namespace Bank.Hosting.Door;

/// <summary>
/// The clients connected to a door: the addresses with a live inbound association, from the door system's remoting
/// lifecycle events (published whatever log-remote-lifecycle-events says). The door answers only these, over the
/// connection they opened: an answer to any other address would make the door dial out, and Akka shuts a system down
/// when a TLS handshake it started fails (exit reason 79), so a forged sender address could stop the door.
/// </summary>
public sealed class DoorPeers
{
    private readonly ConcurrentDictionary<Address, int> _inbound = new();
    private long _dropped;

    /// <summary>Answers dropped because their address had no inbound connection (forged, or the client left).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Whether <paramref name="client"/> may be answered: a ref of a connected client, not one of the door's own.</summary>
    public bool Connected(IActorRef client) => client.Path.Address.HasGlobalScope && _inbound.ContainsKey(client.Path.Address);

    public void Drop() => Interlocked.Increment(ref _dropped);

    /// <summary>Follows <paramref name="door"/>'s inbound associations from now on, on the thread that publishes them.</summary>
    public static DoorPeers Follow(ExtendedActorSystem door)
    {
        var peers = new DoorPeers();
        var hook = new EventStreamHook(door, "door-peers", peers.On);
        door.EventStream.Subscribe(hook, typeof(AssociatedEvent));
        door.EventStream.Subscribe(hook, typeof(DisassociatedEvent));
        return peers;
    }

    private void On(object lifecycle)
    {
        switch (lifecycle)
        {
            case AssociatedEvent { IsInbound: true } opened:
                _inbound.AddOrUpdate(opened.RemoteAddress, 1, (_, count) => count + 1);
                break;
            case DisassociatedEvent { IsInbound: true } closed:
                // Decrement, and forget the address at zero, without racing a new association of the same address.
                while (_inbound.TryGetValue(closed.RemoteAddress, out var count))
                    if (count <= 1 ? _inbound.TryRemove(KeyValuePair.Create(closed.RemoteAddress, count))
                            : _inbound.TryUpdate(closed.RemoteAddress, count - 1, count))
                        break;
                break;
        }
    }
}

/// <summary>
/// An EventStream subscriber that runs <paramref name="onEvent"/> where the event is published. It is in no actor tree,
/// so nothing from the network can address it (unlike an actor at /system/...).
/// </summary>
internal sealed class EventStreamHook(ExtendedActorSystem system, string name, Action<object> onEvent) : MinimalActorRef
{
    public override ActorPath Path { get; } = new RootActorPath(system.Provider.DefaultAddress) / "hooks" / name;

    public override IActorRefProvider Provider => system.Provider;

    protected override void TellInternal(object message, IActorRef sender) => onEvent(message);
}
