using Akka.Actor;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Door;

/// <summary>
/// In the node's cluster system: one response tunnel per client of the door. A request goes to the gateway with its
/// client's tunnel as sender, so the answer, whichever node it comes from (the registry's, a saga's, an account's), reaches
/// the tunnel over the cluster port; the tunnel passes it to the client over the door. A tunnel stops when idle.
/// </summary>
public sealed class DoorTunnels : ReceiveActor
{
    private readonly Dictionary<IActorRef, IActorRef> _tunnels = [];
    private int _made;

    public DoorTunnels(ICanTell gateway, TimeSpan idle)
    {
        Receive<Relay>(relay =>
        {
            if (!_tunnels.TryGetValue(relay.Client, out var tunnel))
            {
                tunnel = Context.Watch(Context.ActorOf(Props.Create(() => new ResponseTunnel(relay.Client, idle)), $"tunnel-{++_made}"));
                _tunnels[relay.Client] = tunnel;
            }

            gateway.Tell(relay.Request, tunnel);
        });
        Receive<Terminated>(ended =>
        {
            foreach (var (client, tunnel) in _tunnels)
                if (tunnel.Equals(ended.ActorRef))
                {
                    _tunnels.Remove(client);
                    break;
                }
        });
    }

    public static Props PropsFor(ICanTell gateway, TimeSpan idle) => Props.Create(() => new DoorTunnels(gateway, idle));

    /// <summary>A request that passed the door, and the client (a ref in the door's actor system) its answers go to.</summary>
    public sealed record Relay(IActorRef Client, IBankMessage Request);

    /// <summary>Passes every answer to its client, without a sender (the client never gets a ref into the cluster).</summary>
    private sealed class ResponseTunnel : ReceiveActor
    {
        public ResponseTunnel(IActorRef client, TimeSpan idle)
        {
            Context.SetReceiveTimeout(idle);
            Receive<ReceiveTimeout>(_ => Context.Stop(Self));
            ReceiveAny(answer => client.Tell(answer, ActorRefs.NoSender));
        }
    }
}
