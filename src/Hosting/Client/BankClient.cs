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
        var system = ActorSystem.Create("bank-client", ClientConfig(settings, tls: false));
        var clientSettings = ClusterClientSettings.Create(system).WithInitialContacts(endpoints
            .Select(e => ActorPath.Parse($"akka.tcp://{BankConstants.ActorSystemName}@{e.Host}:{e.Port}/system/receptionist"))
            .ToImmutableHashSet());
        var clusterClient = system.ActorOf(ClusterClient.Props(clientSettings), "cluster-client");
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
                customValidator: tls.AcceptNode)));
        var protocol = tls is null ? "akka.tcp" : "akka.ssl.tcp";
        var doors = endpoints.Select(e => ActorPath.Parse($"{protocol}://{BankConstants.DoorSystemName}@{e.Host}:{e.Port}{BankConstants.DoorPath}")).ToList();
        var door = system.ActorOf(DoorClient.PropsFor(doors, credential), "door-client");
        var broken = WatchConnections(system, endpoints, tls?.Certificate);
        return new BankClient(system, new ClusterClientGateway(system, door, string.Join(",", contacts), broken));
    }

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
              actor {
                serializers.{{BankConstants.SerializerName}} = "{{TypeName(typeof(BankSerializer))}}"
                serialization-bindings {
                  {{string.Join("\n", BankSerializer.BoundTypes.Select(t => $"\"{TypeName(t)}\" = {BankConstants.SerializerName}"))}}
                }
              }
              cluster.client.establishing-get-contacts-interval = 1s
            }
            """))
        .WithFallback(StrictSerialization.Config)
        .WithFallback(BankHocon.Defaults)
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

    /// <summary>Hears the client's connection failures and asks <see cref="TlsProbe"/> whether TLS was why.</summary>
    private sealed class ConnectionWatch : ReceiveActor
    {
        public ConnectionWatch(IReadOnlyList<(string Host, int Port)> endpoints, X509Certificate2? certificate, Action<(string, int), string> refused)
        {
            var probing = new HashSet<(string, int)>();
            Receive<AssociationErrorEvent>(failure =>
            {
                if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null) return;
                var address = failure.RemoteAddress;
                var endpoint = endpoints.FirstOrDefault(e => e.Host == address.Host && e.Port == address.Port);
                if (endpoint == default || !probing.Add(endpoint)) return;
                TlsProbe.DiagnoseAsync(endpoint.Host, endpoint.Port, certificate).PipeTo(Self, success: why => new Probed(endpoint, why));
            });
            Receive<Probed>(probed =>
            {
                probing.Remove(probed.Endpoint);
                if (probed.Why is not null) refused(probed.Endpoint, probed.Why);
            });
        }

        private sealed record Probed((string Host, int Port) Endpoint, string? Why);
    }

    public BankSession OpenSession() => new(Gateway);

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

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

/// <summary>
/// Sends requests through ClusterClient to the gateway on some node. On silence it resends the same message (same
/// request id) up to <c>bank.client.attempts</c> times before the call fails with ClusterUnreachable.
/// </summary>
public sealed class ClusterClientGateway : IBankGateway
{
    private readonly ActorSystem _system;
    private readonly IActorRef _clusterClient;
    private readonly string _where;
    private readonly TimeSpan _timeout;
    private readonly int _attempts;
    private readonly TimeSpan _heartbeatInterval;
    private readonly IActorRef _calls;
    private readonly Task<BankException> _broken;
    private long _nextCallId;

    /// <param name="broken">Completes when the client cannot reach the cluster at all (e.g. refused for TLS): every call fails with it.</param>
    public ClusterClientGateway(ActorSystem system, IActorRef clusterClient, string where, Task<BankException>? broken = null)
    {
        _broken = broken ?? new TaskCompletionSource<BankException>().Task;
        _system = system;
        _clusterClient = clusterClient;
        _where = where;
        var config = system.Settings.Config;
        _timeout = config.GetTimeSpan("bank.client.ask-timeout", TimeSpan.FromSeconds(15));
        _attempts = Math.Max(1, config.GetInt("bank.client.attempts", 3));
        _heartbeatInterval = config.GetTimeSpan("bank.client.heartbeat-interval", TimeSpan.FromSeconds(2));
        _calls = system.ActorOf(Props.Create(() => new CallCorrelator(clusterClient)), "calls");
    }

    public string OwnerFor(string session) => NameRegistry.ClientOwner(session);

    public IDisposable KeepAlive(string owner)
    {
        var beat = new ClusterClient.Send(BankConstants.GatewayPath, new OwnerHeartbeat(owner));
        // The first one now, ahead of the open that needs it: the registry hears of the owner before its first actor.
        _clusterClient.Tell(beat, ActorRefs.NoSender);
        return new CancelOnDispose(_system.Scheduler.ScheduleTellRepeatedlyCancelable(
            _heartbeatInterval, _heartbeatInterval, _clusterClient, beat, ActorRefs.NoSender));
    }

    public Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken = default) =>
        SendAsync(request, cancellationToken);

    public Task<object> CallAccountAsync(AccountRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(request, cancellationToken);

    public Task<object> CallAccountAsync(NamedAccountRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(request, cancellationToken);

    /// <summary>An account call, by incarnation or by name, through the one <see cref="CallCorrelator"/> of this client.</summary>
    private async Task<object> CallAsync(IBankMessage request, CancellationToken cancellationToken)
    {
        var timeout = Patience.For(request, _timeout, _system);
        var perAttempt = TimeSpan.FromTicks(timeout.Ticks / _attempts);
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            var id = Interlocked.Increment(ref _nextCallId);
            var answer = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Tell(new CallCorrelator.Call(id, Correlated(id, request), answer));
            try
            {
                return await OrBroken(answer.Task.WaitAsync(perAttempt, cancellationToken));
            }
            catch (TimeoutException)
            {
                // Silence: the call or its answer may be lost. The same request goes again; its id makes it safe.
                _calls.Tell(new CallCorrelator.Forget(id));
            }
            catch (OperationCanceledException)
            {
                _calls.Tell(new CallCorrelator.Forget(id));
                throw;
            }
        }

        throw new BankException(ErrorKind.ClusterUnreachable, "Timeout",
            $"no answer from the cluster at {_where} within {timeout.TotalSeconds:0.#} s");
    }

    /// <summary>The call under its correlation id (no closure per call: this is the hot path of `bank bench --address`).</summary>
    private static IBankMessage Correlated(long id, IBankMessage call) => call switch
    {
        AccountRequest byIncarnation => new CorrelatedAccountRequest(id, byIncarnation),
        NamedAccountRequest byName => new CorrelatedNamedAccountRequest(id, byName),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call.GetType().Name, "not an account call"),
    };

    private async Task<object> SendAsync(IBankMessage request, CancellationToken cancellationToken)
    {
        var timeout = Patience.For(request, _timeout, _system);
        var perAttempt = TimeSpan.FromTicks(timeout.Ticks / _attempts);
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            try
            {
                // Local affinity: the gateway on the node this client is connected to, never a random (maybe dead) one.
                return await OrBroken(_clusterClient.Ask<object>(
                    new ClusterClient.Send(BankConstants.GatewayPath, request, localAffinity: true), perAttempt, cancellationToken));
            }
            catch (AskTimeoutException) when (attempt < _attempts)
            {
                // Silence: the request or its answer may be lost. The same message goes again; its id makes it safe.
            }
            catch (AskTimeoutException)
            {
                break;
            }
        }

        throw new BankException(ErrorKind.ClusterUnreachable, "Timeout",
            $"no answer from the cluster at {_where} within {timeout.TotalSeconds:0.#} s");
    }

    /// <summary>The answer, unless the connection broke first: then its reason, at once.</summary>
    private async Task<object> OrBroken(Task<object> answer)
    {
        if (await Task.WhenAny(answer, _broken) == _broken) throw await _broken;
        return await answer;
    }

    /// <summary>
    /// The one sender of a client's account calls: it matches answers to calls by their correlation ids, so the cluster
    /// sees one client, not one temporary actor per call.
    /// </summary>
    private sealed class CallCorrelator : ReceiveActor
    {
        private readonly Dictionary<long, TaskCompletionSource<object>> _waiting = [];

        public CallCorrelator(IActorRef clusterClient)
        {
            Receive<Call>(call =>
            {
                _waiting[call.Id] = call.Answer;
                clusterClient.Tell(new ClusterClient.Send(BankConstants.GatewayPath, call.Message, localAffinity: true));
            });
            Receive<CorrelatedAccountReply>(answer =>
            {
                if (_waiting.Remove(answer.Id, out var waiting))
                    waiting.TrySetResult((object?)answer.Reply ?? answer.Rejected!);
            });
            Receive<Forget>(forget => _waiting.Remove(forget.Id));
        }

        /// <summary>A call under its correlation id (<paramref name="Message"/> carries it), and where its answer goes.</summary>
        public sealed record Call(long Id, IBankMessage Message, TaskCompletionSource<object> Answer);

        public sealed record Forget(long Id);
    }

    private sealed class CancelOnDispose(ICancelable cancelable) : IDisposable
    {
        public void Dispose() => cancelable.Cancel();
    }
}
