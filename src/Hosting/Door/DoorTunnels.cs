using Akka.Actor;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Door;

/// <summary>
/// In the node's cluster system: one response tunnel per client of the door. A request goes to the gateway with its
/// client's tunnel as sender, so the answer, whichever node it comes from (the registry's, a saga's, an account's), reaches
/// the tunnel over the cluster port; the tunnel passes it to the client over the door. A tunnel stops when idle, or after
/// its one answer when its client is an ask's temporary ref. At most <paramref name="max"/> tunnels live at once; past
/// that a request is refused in one line.
/// </summary>
public sealed class DoorTunnels : ReceiveActor
{
    private readonly Dictionary<IActorRef, IActorRef> _tunnels = [];
    private readonly Dictionary<IActorRef, IActorRef> _clients = [];
    private int _made;

    public DoorTunnels(ICanTell gateway, TimeSpan idle, int max, DoorPeers peers)
    {
        Receive<Relay>(relay =>
        {
            if (!_tunnels.TryGetValue(relay.Client, out var tunnel))
            {
                if (_tunnels.Count >= max)
                {
                    relay.Client.Tell(DoorReceptionist.Answer(relay.Request, new Rejected(ErrorKind.ClusterUnreachable, "DoorBusy",
                        $"this node's client door has {max} requests in flight (bank.door.max-response-tunnels): try again, or another node")),
                        ActorRefs.NoSender);
                    return;
                }

                tunnel = Context.Watch(Context.ActorOf(ResponseTunnel.PropsFor(relay.Client, idle, peers), $"tunnel-{++_made}"));
                _tunnels[relay.Client] = tunnel;
                _clients[tunnel] = relay.Client;
            }

            gateway.Tell(relay.Request, tunnel);
        });
        Receive<Terminated>(ended =>
        {
            if (_clients.Remove(ended.ActorRef, out var client)) _tunnels.Remove(client);
        });
    }

    public static Props PropsFor(ICanTell gateway, TimeSpan idle, int max, DoorPeers peers) =>
        Props.Create(() => new DoorTunnels(gateway, idle, max, peers));

    /// <summary>A request that passed the door, and the client (a ref in the door's actor system) its answers go to.</summary>
    public sealed record Relay(IActorRef Client, IBankMessage Request);

    /// <summary>
    /// Passes every answer to its client, without a sender (the client never gets a ref into the cluster), while the client
    /// is connected to the door (an answer to a client gone would make the door dial out).
    /// </summary>
    private sealed class ResponseTunnel : ReceiveActor
    {
        public ResponseTunnel(IActorRef client, TimeSpan idle, DoorPeers peers)
        {
            // An ask's temporary ref takes one answer; later ones would only be its dead letters.
            var once = client.Path.Elements is ["temp", ..];
            Context.SetReceiveTimeout(idle);
            Receive<ReceiveTimeout>(_ => Context.Stop(Self));
            ReceiveAny(answer =>
            {
                if (!peers.Connected(client))
                {
                    peers.Drop();
                    Context.Stop(Self);
                    return;
                }

                client.Tell(answer, ActorRefs.NoSender);
                if (once) Context.Stop(Self);
            });
        }

        public static Props PropsFor(IActorRef client, TimeSpan idle, DoorPeers peers) =>
            Props.Create(() => new ResponseTunnel(client, idle, peers));
    }
}
