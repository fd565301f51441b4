using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
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
    private readonly ActorSystem _system;
    private readonly Func<string, DoorAccess> _verify;

    private ClientDoor(ActorSystem system, Func<string, DoorAccess> verify, string hostname, int port)
    {
        _system = system;
        _verify = verify;
        Address = $"{hostname}:{port}";
    }

    /// <summary>HOST:PORT where clients reach this door (what they give as --address).</summary>
    public string Address { get; }

    /// <summary>The cluster role that tells the other nodes where this door is.</summary>
    public string Role => BankConstants.DoorRolePrefix + Address.Replace(':', '-');

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
        var config = ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              # Its warnings (refused peers and requests) go to the node's log once the door opens (LogRelay).
              stdout-loglevel = OFF
              loggers = []
              log-dead-letters = 0
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote {
                dot-netty.tcp {
                  hostname = "{{hostname}}"
                  port = {{port}}
                  enable-ssl = {{(tls is null ? "off" : "on")}}
                }
                # Clients may only select the door; no remote deployment, no system messages from them.
                untrusted-mode = on
                trusted-selection-paths = ["{{BankConstants.DoorPath}}"]
              }
              actor {
                serializers.{{BankConstants.SerializerName}} = "{{TypeName(typeof(BankSerializer))}}"
                serialization-bindings {
                  {{string.Join("\n", BankSerializer.BoundTypes.Select(t => $"\"{TypeName(t)}\" = {BankConstants.SerializerName}"))}}
                }
              }
            }
            """).WithFallback(BankHocon.Defaults);
        var setup = BootstrapSetup.Create().WithConfig(config);
        var system = tls is null
            ? ActorSystem.Create(BankConstants.DoorSystemName, setup)
            : ActorSystem.Create(BankConstants.DoorSystemName, ActorSystemSetup.Create(setup,
                new DotNettySslSetup(tls.Certificate, suppressValidation: false, requireMutualAuthentication: true,
                    validateCertificateHostname: false, customValidator: tls.AcceptClient)));
        var bound = ((ExtendedActorSystem)system).Provider.DefaultAddress;
        return new ClientDoor(system, verify, hostname, bound.Port ?? port);
    }

    /// <summary>Opens the door onto <paramref name="cluster"/>, the node's cluster system, once its gateway runs.</summary>
    public void Open(ActorSystem cluster)
    {
        var idle = cluster.Settings.Config.GetTimeSpan("bank.door.response-tunnel-idle", TimeSpan.FromSeconds(30));
        var tunnels = cluster.ActorOf(DoorTunnels.PropsFor(cluster.ActorSelection(BankConstants.GatewayPath), idle), "door-tunnels");
        var door = (ExtendedActorSystem)_system;
        var relay = door.SystemActorOf(Props.Create(() => new LogRelay(cluster.EventStream)), "log-relay");
        door.EventStream.Subscribe(relay, typeof(Akka.Event.Warning));
        door.EventStream.Subscribe(relay, typeof(Akka.Event.Error));
        door.SystemActorOf(DoorReceptionist.PropsFor(_verify, tunnels), BankConstants.DoorPath.Split('/')[^1]);
        cluster.RegisterOnTermination(() => _ = DisposeAsync());
    }

    /// <summary>The door's warnings and errors into the node's log, which writes them where the node's own go.</summary>
    private sealed class LogRelay : ReceiveActor
    {
        public LogRelay(Akka.Event.EventStream node) => ReceiveAny(node.Publish);
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    public async ValueTask DisposeAsync() => await _system.Terminate();
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
