using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Transport.DotNetty;
using Bank.Hosting.Configuration;
using Bank.Hosting.Contracts;
using Bank.Hosting.Security;
using Bank.Hosting.Serialization;

namespace Bank.Hosting.Door;

/// <summary>The TLS of a door: its certificate (with key), and which client certificates it accepts.</summary>
public sealed record DoorTls(X509Certificate2 Certificate, CertificateValidationCallback AcceptClient);

/// <summary>
/// A node's client door: a small actor system of its own ("bank-door", remoting only, never a cluster member) on the
/// clients' port, whose one actor is the <see cref="DoorReceptionist"/>. Clients reach the node only through it; the
/// cluster port accepts nodes only. Started before the node's cluster system, so the node can announce its address.
/// </summary>
public sealed class ClientDoor : IAsyncDisposable
{
    /// <summary>Tries to listen again on the door's port after its system stopped (the port may still be closing).</summary>
    private static readonly TimeSpan RebindEvery = TimeSpan.FromMilliseconds(500);
    private const int Rebinds = 20;

    private readonly Func<ActorSystem> _restart;
    private readonly Func<string, DoorAccess> _verify;
    private ActorSystem _system;
    private ActorSystem? _cluster;
    private IActorRef? _tunnels;
    private volatile bool _closing;
    private int _restarts;

    private ClientDoor(ActorSystem system, Func<ActorSystem> restart, Func<string, DoorAccess> verify, string hostname, int port)
    {
        _system = system;
        _restart = restart;
        _verify = verify;
        Address = $"{hostname}:{port}";
        Peers = DoorPeers.Follow((ExtendedActorSystem)system);
    }

    /// <summary>HOST:PORT where clients reach this door (what they give as --address).</summary>
    public string Address { get; }

    /// <summary>The cluster role that tells the other nodes where this door is.</summary>
    public string Role => BankConstants.DoorRolePrefix + Address.Replace(':', '-');

    /// <summary>The clients connected to the door now, the only ones it answers.</summary>
    public DoorPeers Peers { get; private set; }

    /// <summary>The door's actor system now (specs stop it as Akka would).</summary>
    internal ActorSystem System => _system;

    /// <summary>How often the door's system stopped while the node ran, and was started again on the same port.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>HOST:PORT of the door a <see cref="Role"/> names; null for any other role.</summary>
    public static string? AddressIn(string role)
    {
        if (!role.StartsWith(BankConstants.DoorRolePrefix, StringComparison.Ordinal)) return null;
        var dash = role.LastIndexOf('-');
        return dash <= BankConstants.DoorRolePrefix.Length ? null : $"{role[BankConstants.DoorRolePrefix.Length..dash]}:{role[(dash + 1)..]}";
    }

    /// <summary>
    /// The door of a node with <paramref name="tls"/> (a node certificate) on <paramref name="hostname"/>:<paramref name="port"/>
    /// (0: a free one): it accepts client and admin certificates of the node's CA, and requests whose credential
    /// (`bank cert issue`) the CA signed for a client or an admin.
    /// </summary>
    public static ClientDoor Start(TlsIdentity tls, string hostname, int port)
    {
        if (tls.Role != BankRole.Node)
            throw new TlsSetupException(
                $"the certificate '{tls.Name}' is a {tls.Role.Text()} certificate: a node needs one issued with --role node");
        var credentials = new CredentialVerifier(tls.Authority);
        return Start(hostname, port, new DoorTls(tls.Certificate, PeerCertificates.Accept(tls.Authority, BankRole.Client, BankRole.Admin)),
            credential => credentials.Verify(credential) switch
            {
                BankRole.Client => DoorAccess.Client,
                BankRole.Admin => DoorAccess.Admin,
                _ => DoorAccess.Refused,
            });
    }

    /// <summary>Listens on <paramref name="hostname"/>:<paramref name="port"/> (0: a free one); <paramref name="tls"/> null only in specs.</summary>
    public static ClientDoor Start(string hostname, int port, DoorTls? tls, Func<string, DoorAccess> verify)
    {
        var system = Listen(hostname, port, tls);
        var bound = ((ExtendedActorSystem)system).Provider.DefaultAddress.Port ?? port;
        return new ClientDoor(system, () => Listen(hostname, bound, tls), verify, hostname, bound);
    }

    private static ActorSystem Listen(string hostname, int port, DoorTls? tls)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              # Its warnings and errors (refused peers and requests) go to the node's log once the door opens.
              stdout-loglevel = OFF
              loggers = []
              log-dead-letters = 0
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote {
                # The door follows its clients' connections from the lifecycle events, which are published anyway.
                log-remote-lifecycle-events = off
                # Use-passive-connections (Akka's default): answers go back over the connection their client opened.
                use-passive-connections = on
                dot-netty.tcp {
                  transport-class = "{{TypeName(typeof(InboundOnlyTransport))}}"
                  hostname = "{{hostname}}"
                  port = {{port}}
                  enable-ssl = {{(tls is null ? "off" : "on")}}
                }
                # Clients may only select the door; no remote deployment, no system messages from them.
                untrusted-mode = on
                trusted-selection-paths = ["{{BankConstants.DoorPath}}"]
              }
            }
            """)
            // Nothing a client sends is built from a type name it carries (no JSON fallback, no remote deployment).
            .WithFallback(BankSerializer.Bindings)
            .WithFallback(StrictSerialization.Config)
            .WithFallback(BankConfiguration.Current.Config);
        var setup = BootstrapSetup.Create().WithConfig(config);
        return tls is null
            ? ActorSystem.Create(BankConstants.DoorSystemName, setup)
            : ActorSystem.Create(BankConstants.DoorSystemName, ActorSystemSetup.Create(setup,
                new DotNettySslSetup(tls.Certificate, suppressValidation: false, requireMutualAuthentication: true,
                    validateCertificateHostname: false, customValidator: tls.AcceptClient)));
    }

    /// <summary>Opens the door onto <paramref name="cluster"/>, the node's cluster system, once its gateway runs.</summary>
    public void Open(ActorSystem cluster)
    {
        _cluster = cluster;
        Wire(cluster, _system);
        cluster.RegisterOnTermination(() => _ = DisposeAsync());
    }

    /// <summary>
    /// The door's receptionist, its tunnels in the cluster system, and its log: warnings and errors go to the node's log,
    /// through a hook no client can address (an actor at /system/... would take messages from clients by path).
    /// </summary>
    private void Wire(ActorSystem cluster, ActorSystem system)
    {
        var door = (ExtendedActorSystem)system;
        var idle = cluster.Settings.Config.GetTimeSpan("bank.door.response-tunnel-idle", TimeSpan.FromSeconds(30));
        var max = cluster.Settings.Config.GetInt("bank.door.max-response-tunnels", 10_000);
        if (_tunnels is not null) cluster.Stop(_tunnels);
        _tunnels = cluster.ActorOf(DoorTunnels.PropsFor(cluster.ActorSelection(BankConstants.GatewayPath), idle, max, Peers),
            $"door-tunnels-{Address[(Address.LastIndexOf(':') + 1)..]}-{_restarts}");
        var log = new EventStreamHook(door, "log", logged => cluster.EventStream.Publish(logged));
        door.EventStream.Subscribe(log, typeof(Akka.Event.Warning));
        door.EventStream.Subscribe(log, typeof(Akka.Event.Error));
        door.SystemActorOf(DoorReceptionist.PropsFor(_verify, _tunnels, Peers), BankConstants.DoorPath.Split('/')[^1]);
        _ = system.WhenTerminated.ContinueWith(_ => Restart(cluster), TaskScheduler.Default);
    }

    /// <summary>
    /// A door whose system stopped while the node runs (Akka stops a system when a TLS handshake it dialed fails) starts
    /// again on its port: the node stays up, and its clients reconnect.
    /// </summary>
    private async Task Restart(ActorSystem cluster)
    {
        if (_closing || cluster.WhenTerminated.IsCompleted) return;
        cluster.Log.Warning("the client door on {0} stopped while the node runs; starting it again", Address);
        for (var attempt = 1; attempt <= Rebinds && !_closing; attempt++)
        {
            try
            {
                var system = _restart();
                if (_closing)
                {
                    await system.Terminate();
                    return;
                }

                _system = system;
                Peers = DoorPeers.Follow((ExtendedActorSystem)system);
                Interlocked.Increment(ref _restarts);
                Wire(cluster, system);
                return;
            }
            catch (Exception failed) when (attempt < Rebinds)
            {
                cluster.Log.Debug("the client door could not listen on {0} yet: {1}", Address, failed.Message);
                await Task.Delay(RebindEvery);
            }
            catch (Exception failed)
            {
                cluster.Log.Error("the client door could not listen on {0} again: {1}; clients must use another node", Address, failed.Message);
            }
        }
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    public async ValueTask DisposeAsync()
    {
        _closing = true;
        await _system.Terminate();
    }
}

public static class ClientDoorHostingExtensions
{
    /// <summary>
    /// Opens <paramref name="door"/> (none: nothing to do) onto this node once its actors run; the door's system was started
    /// before, and stops with the node's.
    /// </summary>
    public static AkkaConfigurationBuilder WithClientDoor(this AkkaConfigurationBuilder builder, ClientDoor? door) =>
        door is null ? builder : builder.WithActors((system, _) => door.Open(system));
}
