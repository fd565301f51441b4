using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Transport;

namespace Bank.Hosting.Door;

/// <summary>
/// The door's transport: Akka.Remote's own DotNetty TCP (with its TLS) for listening, and no outbound connection ever.
/// Akka stops a system whose outbound TLS handshake fails (exit reason 79), so a door that dialed an address a client
/// names as its sender could be stopped by any client; answers travel back over the connection the client opened
/// (use-passive-connections), and an answer to any other address fails at once, without a handshake.
/// </summary>
public sealed class InboundOnlyTransport : Akka.Remote.Transport.Transport
{
    /// <summary>Akka.Remote's DotNetty TCP transport, which it does not expose as a public type.</summary>
    private const string DotNettyTcp = "Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote";

    private readonly Akka.Remote.Transport.Transport _listener;

    public InboundOnlyTransport(ActorSystem system, Config config)
    {
        System = system;
        Config = config;
        _listener = (Akka.Remote.Transport.Transport)Activator.CreateInstance(Type.GetType(DotNettyTcp, throwOnError: true)!, system, config)!;
        SchemeIdentifier = _listener.SchemeIdentifier;
    }

    public override long MaximumPayloadBytes => _listener.MaximumPayloadBytes;

    public override Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen() => _listener.Listen();

    public override bool IsResponsibleFor(Address remote) => _listener.IsResponsibleFor(remote);

    public override Task<AssociationHandle> Associate(Address remoteAddress) =>
        Task.FromException<AssociationHandle>(new InvalidAssociationException(
            $"the client door never connects out (to {remoteAddress}): it answers its clients over their own connections"));

    public override Task<bool> Shutdown() => _listener.Shutdown();

    public override Task<bool> ManagementCommand(object message) => _listener.ManagementCommand(message);
}
