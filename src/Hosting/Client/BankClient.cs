using System.Collections.Immutable;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport.DotNetty;
using Bank.Hosting.Configuration;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;
using Bank.Hosting.Security;
using Bank.Hosting.Serialization;

namespace Bank.Hosting.Client;

/// <summary>A client's TLS: its certificate (with key), and which node certificates it accepts at the doors.</summary>
public sealed record DoorClientTls(X509Certificate2 Certificate, CertificateValidationCallback AcceptNode);

/// <summary>
/// A client of a Bank cluster from another process: a small actor system that reaches the nodes' gateways through
/// ClusterClient. Open sessions on it (<see cref="OpenSession"/>); each call carries a request id and is retried on
/// silence, and accounts apply a request id once, so a retry never applies twice.
/// </summary>
public sealed class BankClient : IAsyncDisposable
{
    private readonly ActorSystem _system;

    private BankClient(ActorSystem system, ClusterClientGateway gateway)
    {
        _system = system;
        Gateway = gateway;
    }

    public IBankGateway Gateway { get; }

    /// <summary>Connects to the cluster through one or more contact points (HOST:PORT of any node).</summary>
    /// <exception cref="BankException">ClusterUnreachable when no contact point accepts a connection.</exception>
    public static Task<BankClient> ConnectAsync(IReadOnlyList<string> contacts, CancellationToken cancellationToken = default) =>
        ConnectAsync(contacts, Config.Empty, cancellationToken);

    /// <summary>
    /// Connects as <see cref="ConnectAsync(IReadOnlyList{string}, CancellationToken)"/> does, with HOCON for the client's
    /// actor system that takes precedence over its defaults (e.g. <c>bank.client.ask-timeout</c>).
    /// </summary>
    public static async Task<BankClient> ConnectAsync(IReadOnlyList<string> contacts, Config settings, CancellationToken cancellationToken = default)
    {
        var endpoints = await ReachableAsync(contacts, cancellationToken);
        var system = ActorSystem.Create("bank-client", ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(ClientConfig(settings, tls: false)), Quiet()));
        var clientSettings = ClusterClientSettings.Create(system).WithInitialContacts(endpoints
            .Select(e => ActorPath.Parse($"akka.tcp://{BankConstants.ActorSystemName}@{e.Host}:{e.Port}/system/receptionist"))
            .ToImmutableHashSet());
        // Akka's ClusterClient, changed for a new one at once when the node it talks to drops (failover of calls in flight).
        var clusterClient = system.ActorOf(ClusterLink.PropsFor(clientSettings), "cluster-client");
        var broken = WatchConnections(system, endpoints, certificate: null);
        return new BankClient(system, new ClusterClientGateway(system, clusterClient, string.Join(",", contacts), broken));
    }

    /// <summary>
    /// Connects with <paramref name="tls"/> (a client or admin certificate, `--tls DIR`) through the nodes' client doors
    /// (HOST:PORT as `bank start` prints it), or in plain text as <see cref="ConnectAsync(IReadOnlyList{string}, Config, CancellationToken)"/>
    /// when it is null.
    /// </summary>
    /// <exception cref="TlsSetupException">A node certificate, or one without its credential.</exception>
    public static Task<BankClient> ConnectAsync(IReadOnlyList<string> contacts, TlsIdentity? tls, Config? settings = null,
        CancellationToken cancellationToken = default)
    {
        if (tls is null) return ConnectAsync(contacts, settings ?? Config.Empty, cancellationToken);
        if (tls.Role is not (BankRole.Client or BankRole.Admin) || tls.Credential is null)
            throw new TlsSetupException(
                $"the certificate '{tls.Name}' is a {tls.Role.Text()} certificate: a client needs one issued with --role client or --role admin");
        return ConnectToDoorsAsync(contacts, tls.Credential,
            new DoorClientTls(tls.Certificate, PeerCertificates.Accept(tls.Authority, BankRole.Node)), settings ?? Config.Empty, cancellationToken);
    }

    /// <summary>
    /// Connects through the nodes' client doors (HOST:PORT of each, as `bank start` prints it), every request carrying
    /// <paramref name="credential"/>; with <paramref name="tls"/> the connection is mutual TLS (null only in specs of
    /// plain-text doors).
    /// </summary>
    public static async Task<BankClient> ConnectToDoorsAsync(IReadOnlyList<string> contacts, string credential, DoorClientTls? tls,
        Config settings, CancellationToken cancellationToken = default)
    {
        var endpoints = await ReachableAsync(contacts, cancellationToken);
        var config = ClientConfig(settings, tls is not null);
        var setup = BootstrapSetup.Create().WithConfig(config);
        var system = tls is null
            ? ActorSystem.Create("bank-client", setup)
            : ActorSystem.Create("bank-client", ActorSystemSetup.Create(setup, new DotNettySslSetup(tls.Certificate,
                suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false,
                customValidator: tls.AcceptNode),
                // A failed handshake is told in one line by WatchConnections, not as Akka's page of troubleshooting on stdout.
                Quiet(new Akka.Event.LogFilterBuilder().ExcludeMessageContaining("TLS handshake failed"))));
        var protocol = tls is null ? "akka.tcp" : "akka.ssl.tcp";
        var doors = endpoints.Select(e => ActorPath.Parse($"{protocol}://{BankConstants.DoorSystemName}@{e.Host}:{e.Port}{BankConstants.DoorPath}")).ToList();
        var door = system.ActorOf(DoorClient.PropsFor(doors, credential), "door-client");
        var broken = WatchConnections(system, endpoints, tls?.Certificate);
        return new BankClient(system, new ClusterClientGateway(system, door, string.Join(",", contacts), broken));
    }

    /// <summary>
    /// A node that does not answer (paused, gone) is the caller's to hear of, as ClusterUnreachable or OutcomeUnknown, not
    /// as Akka's error line on stdout, where it would break a command's --json.
    /// </summary>
    private static Akka.Event.LogFilterSetup Quiet(Akka.Event.LogFilterBuilder? filters = null) =>
        (filters ?? new Akka.Event.LogFilterBuilder()).ExcludeMessageContaining("Handshake timed out").Build();

    private static async Task<IReadOnlyList<(string Host, int Port)>> ReachableAsync(IReadOnlyList<string> contacts, CancellationToken cancellationToken)
    {
        if (contacts.Count == 0) throw new ArgumentException("at least one contact point is needed", nameof(contacts));
        var endpoints = contacts.Select(ParseContact).ToList();
        await EnsureListeningAsync(endpoints, cancellationToken);
        return endpoints;
    }

    private static Config ClientConfig(Config settings, bool tls) => settings.WithFallback(ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = ERROR
              stdout-loglevel = ERROR
              log-dead-letters = 0
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, enable-ssl = {{(tls ? "on" : "off")}} }
              cluster.client.establishing-get-contacts-interval = 1s
            }
            """))
        .WithFallback(BankSerializer.Bindings)
            .WithFallback(StrictSerialization.Config)
        .WithFallback(BankConfiguration.Current.Config)
        .WithFallback(ClusterClientReceptionist.DefaultConfig())
        // ClusterClient wraps each call in pub-sub's Send: without its serializer bound, Send would go as
        // Newtonsoft JSON, resolving type names by reflection on every call at the receiving node.
        .WithFallback(DistributedPubSub.DefaultConfig());

    /// <summary>
    /// Completes with the one-line reason when every contact refused this client for TLS reasons (a plain client at a TLS
    /// node, a certificate the node refuses): told at once, not after the ask timeout. Asked only after a failure.
    /// </summary>
    private static Task<BankException> WatchConnections(ActorSystem system, IReadOnlyList<(string Host, int Port)> endpoints,
        X509Certificate2? certificate)
    {
        var broken = new TaskCompletionSource<BankException>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refused = new HashSet<(string, int)>();
        Action<(string, int), string> refusedBy = (endpoint, why) =>
        {
            lock (refused)
            {
                refused.Add(endpoint);
                if (refused.Count == endpoints.Count)
                    broken.TrySetResult(new BankException(ErrorKind.ClusterUnreachable, "Tls", why));
            }
        };
        var watcher = system.ActorOf(Props.Create(() => new ConnectionWatch(endpoints, certificate, refusedBy)), "connection-watch");
        // Association errors only: a client that ends (every CLI command) disassociates, and must not probe then.
        system.EventStream.Subscribe(watcher, typeof(AssociationErrorEvent));
        system.EventStream.Subscribe(watcher, typeof(AssociatedEvent));
        // A TLS handshake this client fails (it does not trust the node's certificate) stops its whole actor system.
        system.WhenTerminated.ContinueWith(async _ =>
        {
            if (CoordinatedShutdown.Get(system).ShutdownReason?.GetType().Name != "TlsHandshakeFailureReason") return;
            var (host, port) = endpoints[0];
            var why = await TlsProbe.DiagnoseAsync(host, port, certificate) ?? TlsProbe.HandshakeFailed($"{host}:{port}");
            broken.TrySetResult(new BankException(ErrorKind.ClusterUnreachable, "Tls", why));
        }, TaskScheduler.Default);
        return broken.Task;
    }

    /// <summary>
    /// Hears the client's connection failures and asks <see cref="TlsProbe"/> whether TLS was why. With TLS it also asks
    /// when no association is up after <see cref="Quiet"/>: a door that never finishes the handshake (a client
    /// certificate at a cluster port) reports no error until Akka's 15 s association timeout.
    /// </summary>
    private sealed class ConnectionWatch : ReceiveActor, IWithTimers
    {
        private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(3);

        private readonly bool _tls;

        public ITimerScheduler Timers { get; set; } = null!;

        public ConnectionWatch(IReadOnlyList<(string Host, int Port)> endpoints, X509Certificate2? certificate, Action<(string, int), string> refused)
        {
            _tls = certificate is not null;
            var probing = new HashSet<(string, int)>();
            var associated = false;
            Receive<AssociatedEvent>(_ => associated = true);
            Receive<AssociationErrorEvent>(failure =>
            {
                var address = failure.RemoteAddress;
                Probe(endpoints.FirstOrDefault(e => e.Host == address.Host && e.Port == address.Port));
            });
            Receive<QuietTick>(_ =>
            {
                if (associated) return;
                foreach (var endpoint in endpoints) Probe(endpoint);
            });
            Receive<Probed>(probed =>
            {
                probing.Remove(probed.Endpoint);
                if (probed.Why is not null) refused(probed.Endpoint, probed.Why);
            });
            return;

            void Probe((string Host, int Port) endpoint)
            {
                if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null) return;
                if (endpoint == default || !probing.Add(endpoint)) return;
                TlsProbe.DiagnoseAsync(endpoint.Host, endpoint.Port, certificate).PipeTo(Self, success: why => new Probed(endpoint, why));
            }
        }

        protected override void PreStart()
        {
            if (_tls) Timers.StartSingleTimer(nameof(QuietTick), QuietTick.Instance, Quiet);
        }

        private sealed record Probed((string Host, int Port) Endpoint, string? Why);

        private sealed class QuietTick
        {
            public static readonly QuietTick Instance = new();
        }
    }

    public BankSession OpenSession() => new(Gateway);

    public async ValueTask DisposeAsync() => await _system.Terminate();

    /// <summary>Parses HOST:PORT; the one-line message says what is wrong.</summary>
    public static (string Host, int Port) ParseContact(string contact)
    {
        var colon = contact.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(contact[(colon + 1)..], out var port) || port is <= 0 or > 65535)
            throw new BankException(ErrorKind.Usage, "BadAddress",
                $"'{Domain.TextEcho.OneLine(contact)}' is not a cluster address: use HOST:PORT, e.g. 127.0.0.1:4053");
        return (contact[..colon], port);
    }

    /// <summary>A cluster that is down is reported at once, rather than after ClusterClient's quiet retries.</summary>
    private static async Task EnsureListeningAsync(IReadOnlyList<(string Host, int Port)> endpoints, CancellationToken cancellationToken)
    {
        foreach (var (host, port) in endpoints)
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(host, port, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
                return;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
            }
        }

        throw new BankException(ErrorKind.ClusterUnreachable, nameof(ErrorKind.ClusterUnreachable),
            $"no Bank node is listening at {string.Join(", ", endpoints.Select(e => $"{e.Host}:{e.Port}"))}; start one with 'bank start --head'");
    }
}
