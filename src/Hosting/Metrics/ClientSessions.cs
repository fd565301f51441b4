using Akka.Actor;
using Akka.Cluster.Tools.Client;

namespace Bank.Hosting.Metrics;

/// <summary>
/// Keeps <see cref="NodeFigures.ClusterClientSessions"/> current: the ClusterClients this node's receptionist knows, as
/// it reports them when they come and when their heartbeats stop.
/// </summary>
public sealed class ClientSessions : ReceiveActor
{
    private readonly HashSet<IActorRef> _clients = [];

    public ClientSessions(IActorRef receptionist)
    {
        var figures = NodeFigures.For(Context.System);
        receptionist.Tell(SubscribeClusterClients.Instance);
        Receive<ClusterClients>(all =>
        {
            _clients.Clear();
            _clients.UnionWith(all.ClusterClientsList);
            figures.ClusterClientSessions = _clients.Count;
        });
        Receive<ClusterClientUp>(up =>
        {
            _clients.Add(up.ClusterClient);
            figures.ClusterClientSessions = _clients.Count;
        });
        Receive<ClusterClientUnreachable>(gone =>
        {
            _clients.Remove(gone.ClusterClient);
            figures.ClusterClientSessions = _clients.Count;
        });
    }

    public static Props PropsFor(IActorRef receptionist) => Props.Create(() => new ClientSessions(receptionist));
}
