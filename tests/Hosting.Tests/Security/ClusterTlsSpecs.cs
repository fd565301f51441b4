using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.Remote.Transport.DotNetty;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>
/// The cluster port of a node with a certificate (issue 16): nodes of the cluster's own CA form the cluster as before;
/// another CA's certificate, a client or admin certificate, no certificate, or a bare TLS handshake gets no membership and
/// delivers nothing to any actor, and the node logs whom it refused. Each test has a CA of its own.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class ClusterTlsSpecs : IAsyncLifetime
{
    private static readonly AccountOptions Hundred = new(100m, 0m) { Detached = true };

    /// <summary>How long an intruder keeps trying after its refusals were seen: long enough for a join to complete.</summary>
    private static readonly TimeSpan StillOutside = TimeSpan.FromSeconds(3);

    private readonly TempDataDirectory _certificates = new();
    private readonly List<IHost> _intruders = [];
    private InProcessCluster? _cluster;

    private string Folder(string name) => Path.Combine(_certificates.Path, name);

    private TlsIdentity Node1 { get; set; } = null!;
    private TlsIdentity Node2 { get; set; } = null!;

    public Task InitializeAsync()
    {
        CertificateAuthority.Init(Folder("ca"));
        CertificateAuthority.Init(Folder("other-ca"));
        Node1 = Issue("ca", "node-1", BankRole.Node);
        Node2 = Issue("ca", "node-2", BankRole.Node);
        return Task.CompletedTask;
    }

    private TlsIdentity Issue(string ca, string name, BankRole role)
    {
        var folder = Folder($"{ca}-{name}");
        CertificateAuthority.Issue(Folder(ca), name, role, ["127.0.0.1", "localhost"], folder);
        return TlsIdentity.Load(folder);
    }

    [Fact]
    public async Task Two_nodes_with_node_certificates_of_the_same_CA_form_a_cluster_and_serve_calls()
    {
        var cluster = await StartSeedAsync();
        var second = await cluster.JoinAsync(tls: Node2);

        Assert.All(cluster.Nodes, node => Assert.StartsWith("akka.ssl.tcp://", InProcessCluster.AddressOf(node)));
        await using var session = cluster.NewSession(second);
        var actor = await session.OpenAsync(Unique("tls"), Hundred);
        Assert.Equal(125m, await session.DepositAsync(actor, 25m));
        await using var onSeed = cluster.NewSession();
        Assert.Equal(125m, await onSeed.BalanceAsync(actor));
        // A member named as HOST:PORT (`bank actors --node`) is found under the TLS scheme too.
        var tree = await onSeed.ActorTreeAsync("/user", 1, InProcessCluster.HostPortOf(second));
        Assert.Equal(InProcessCluster.AddressOf(second), tree.Node);
    }

    [Fact]
    public async Task A_node_with_a_certificate_of_another_CA_never_becomes_a_member_and_is_logged_as_refused()
    {
        var seed = (await StartSeedAsync()).Seed;
        var refusals = RecordWarnings(seed.System);

        await StartIntruderAsync(seed, TrustingEveryone(Issue("other-ca", "intruder", BankRole.Node)));

        await AssertStaysOutsideAsync(seed, refusals, "refused TLS peer");
    }

    [Fact]
    public async Task A_Bank_node_with_another_CAs_certificate_stops_at_once_saying_TLS_and_the_seed_stays_alone()
    {
        var cluster = await StartSeedAsync();

        var stopped = await Assert.ThrowsAnyAsync<Exception>(() => cluster.JoinAsync(tls: Issue("other-ca", "stranger", BankRole.Node)));

        Assert.IsNotType<TimeoutException>(stopped);
        Assert.Contains("TLS handshake failed", stopped.Message);
        Assert.Single(Cluster.Get(cluster.Seed.System).State.Members);
    }

    [Fact]
    public async Task A_node_without_a_certificate_never_becomes_a_member_of_a_TLS_cluster()
    {
        var seed = (await StartSeedAsync()).Seed;
        var refusals = RecordWarnings(seed.System);

        await StartIntruderAsync(seed, remoting: null);

        await AssertStaysOutsideAsync(seed, refusals, "due to TLS handshake failure");
    }

    [Theory]
    [InlineData(BankRole.Client)]
    [InlineData(BankRole.Admin)]
    public async Task A_client_or_admin_certificate_of_the_cluster_CA_never_makes_a_member(BankRole role)
    {
        var seed = (await StartSeedAsync()).Seed;
        var refusals = RecordWarnings(seed.System);

        await StartIntruderAsync(seed, TrustingEveryone(Issue("ca", "intruder", role)));

        await AssertStaysOutsideAsync(seed, refusals, "refused TLS peer");
    }

    [Fact]
    public void A_node_started_with_a_client_certificate_refuses_to_start_with_one_line()
    {
        var client = Issue("ca", "someone", BankRole.Client);

        var refused = Assert.Throws<TlsSetupException>(() => BankNodeHostingExtensions.ClusterRemoting(new BankNodeOptions { Tls = client }));

        Assert.Contains("--role node", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public async Task A_TLS_handshake_without_a_client_certificate_is_closed_before_any_message()
    {
        var seed = (await StartSeedAsync()).Seed;
        var refusals = RecordWarnings(seed.System);
        var port = Cluster.Get(seed.System).SelfAddress.Port!.Value;

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var tls = new SslStream(tcp.GetStream());
        var closed = await Record.ExceptionAsync(async () =>
        {
            // Any server certificate will do: the node is the one that must refuse.
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            });
            // TLS 1.3 ends the client's side of the handshake before the node has seen the (missing) certificate: the
            // refusal comes as the connection closing. A node that accepted it would wait for Akka's associate instead.
            var read = await tls.ReadAsync(new byte[64]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (read == 0) throw new IOException("closed by the node");
        });

        Assert.True(closed is IOException or System.Security.Authentication.AuthenticationException,
            $"the node kept a connection that showed no certificate: {closed?.GetType().Name} {closed?.Message}");
        await Eventually.HoldsAsync(() => refusals.Any(line => line.Contains("did not provide a certificate")),
            "the node to log the connection without a certificate");
    }

    [Fact]
    public async Task A_raw_remote_peer_without_a_certificate_delivers_nothing_to_an_account()
    {
        var seed = (await StartSeedAsync()).Seed;
        var refusals = RecordWarnings(seed.System);
        await using var session = _cluster!.NewSession();
        var actor = await session.OpenAsync(Unique("target"), Hundred);

        var peer = await StartPeerAsync(remoting: null);
        SendDepositsFrom(peer, "akka.tcp", seed, actor);

        await AssertUntouchedAsync(session, actor, refusals, "due to TLS handshake failure");
    }

    [Fact]
    public async Task A_raw_remote_peer_with_a_client_certificate_delivers_nothing_to_an_account()
    {
        var seed = (await StartSeedAsync()).Seed;
        var refusals = RecordWarnings(seed.System);
        await using var session = _cluster!.NewSession();
        var actor = await session.OpenAsync(Unique("target"), Hundred);

        var peer = await StartPeerAsync(TrustingEveryone(Issue("ca", "peer", BankRole.Client)));
        SendDepositsFrom(peer, "akka.ssl.tcp", seed, actor);

        await AssertUntouchedAsync(session, actor, refusals, "refused TLS peer");
    }

    [Fact]
    public void A_refused_peer_is_logged_in_one_warning_line_and_Akkas_multi_line_report_is_left_out()
    {
        var filter = RunningNode.NodeLogFilter(new LogFilterBuilder()).Build().CreateEvaluator();
        bool Kept(LogEvent log) => filter.ShouldTryKeepMessage(log, out _);

        Assert.True(Kept(new Warning("TcpTransport", typeof(object), "refused TLS peer [::1]:4711: not issued by this cluster's CA")));
        Assert.True(Kept(new Warning("TcpServerHandler", typeof(object),
            "Rejected incoming connection from [[::1]:4711] due to TLS handshake failure. This is likely invalid or malicious traffic.")));
        Assert.False(Kept(new Error(new IOException("x"), "TcpServerHandler", typeof(object),
            "TLS handshake failed on channel [a->b](Id=1)\nTLS handshake failed (Server side):\n  Error: x\nServer-side TLS troubleshooting:")));
        // Outbound failures stay: this node's own certificate or its peer's is then the matter.
        Assert.True(Kept(new Error(new IOException("x"), "TcpClientHandler", typeof(object),
            "TLS handshake failed on channel [a->b](Id=1)\nTLS handshake failed (Client side):\n  Error: x")));
    }

    [Fact]
    public void A_node_without_a_certificate_listens_in_plain_text_as_before()
    {
        var remoting = BankNodeHostingExtensions.ClusterRemoting(new BankNodeOptions { Port = 4711 });

        Assert.NotEqual(true, remoting.EnableSsl);
        Assert.Equal(4711, remoting.Port);
        Assert.Equal("akka.tcp", BankConstants.ProtocolOf(tls: false));
    }

    private async Task<InProcessCluster> StartSeedAsync()
    {
        _cluster = InProcessCluster.Empty();
        await _cluster.JoinAsync(tls: Node1);
        return _cluster;
    }

    /// <summary>TLS with <paramref name="identity"/>'s certificate, accepting any certificate the node shows: an attacker's.</summary>
    private static RemoteOptions TrustingEveryone(TlsIdentity identity) => new()
    {
        HostName = "127.0.0.1",
        Port = 0,
        EnableSsl = true,
        Ssl = new SslOptions
        {
            X509Certificate = identity.Certificate,
            RequireMutualAuthentication = true,
            ValidateCertificateHostname = false,
            CustomValidator = (_, _, _, _, _) => true,
        },
    };

    /// <summary>A would-be member that is no Bank node: Akka's remoting and clustering, asking the seed to join.</summary>
    private async Task<ActorSystem> StartIntruderAsync(RunningNode seed, RemoteOptions? remoting)
    {
        var self = Cluster.Get(seed.System).SelfAddress;
        var protocol = remoting?.EnableSsl == true ? "akka.ssl.tcp" : "akka.tcp";
        return await StartAsync(builder => builder
            .WithRemoting(remoting ?? new RemoteOptions { HostName = "127.0.0.1", Port = 0 })
            .WithClustering(new ClusterOptions { SeedNodes = [$"{protocol}://{BankConstants.ActorSystemName}@{self.Host}:{self.Port}"] })
            // Join attempts close together, so that several refusals are seen soon.
            .AddHocon("akka.cluster.seed-node-timeout = 1s\nakka.remote.retry-gate-closed-for = 200ms", HoconAddMode.Prepend));
    }

    /// <summary>A plain Akka.Remote actor system (no cluster) that speaks Bank's messages: a forger's.</summary>
    private Task<ActorSystem> StartPeerAsync(RemoteOptions? remoting) => StartAsync(builder => builder
        .WithRemoting(remoting ?? new RemoteOptions { HostName = "127.0.0.1", Port = 0 })
        .WithBankSerialization());

    private async Task<ActorSystem> StartAsync(Action<AkkaConfigurationBuilder> configure)
    {
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka(BankConstants.ActorSystemName, (builder, _) => configure(builder)))
            .Build();
        _intruders.Add(host);
        await host.StartAsync();
        return host.Services.GetRequiredService<ActorSystem>();
    }

    /// <summary>A deposit of 1000 for <paramref name="actor"/>, by selection and by forged reference, to the gateway and to sharding.</summary>
    private static void SendDepositsFrom(ActorSystem peer, string protocol, RunningNode node, ActorInfo actor)
    {
        var self = Cluster.Get(node.System).SelfAddress;
        var root = $"{protocol}://{BankConstants.ActorSystemName}@{self.Host}:{self.Port}";
        var deposit = new AccountRequest(actor.Key, actor.Id, new Deposit(1000m));
        var provider = ((ExtendedActorSystem)peer).Provider;
        foreach (var path in new[] { BankConstants.GatewayPath, $"/system/sharding/{BankConstants.AccountShardType}" })
        {
            peer.ActorSelection(root + path).Tell(deposit);
            provider.ResolveActorRef(root + path).Tell(deposit);
        }
    }

    /// <summary>
    /// The intruder has been refused (Akka may stop an intruder after its first failed handshake, so one refusal is all a
    /// spec can count on), and for a while after that the seed is still alone in its cluster.
    /// </summary>
    private static async Task AssertStaysOutsideAsync(RunningNode seed, ConcurrentQueue<string> warnings, string refusal)
    {
        void Alone() => Assert.True(Cluster.Get(seed.System).State.Members.Count == 1,
            $"the intruder became a member: {string.Join(", ", Cluster.Get(seed.System).State.Members)}");
        await Eventually.HoldsAsync(() =>
        {
            Alone();
            return warnings.Any(line => line.Contains(refusal));
        }, $"the seed to log a refusal ({refusal}) of the intruder's join attempts");
        await Holds.ForAsync(StillOutside, () =>
        {
            Alone();
            return Task.CompletedTask;
        });
    }

    /// <summary>The node refused the peer (<paramref name="refusal"/> logged) and for a while after that the balance is still 100.</summary>
    private static async Task AssertUntouchedAsync(BankSession session, ActorInfo actor, ConcurrentQueue<string> warnings, string refusal)
    {
        async Task Untouched() => Assert.Equal(100m, await session.BalanceAsync(actor));
        await Eventually.HoldsAsync(async () =>
        {
            await Untouched();
            return warnings.Any(line => line.Contains(refusal));
        }, $"the node to refuse the peer ({refusal})");
        await Holds.ForAsync(StillOutside, Untouched);
    }

    /// <summary>The WARNING lines <paramref name="system"/> logs from now on.</summary>
    private static ConcurrentQueue<string> RecordWarnings(ActorSystem system)
    {
        var lines = new ConcurrentQueue<string>();
        var recorder = system.ActorOf(Props.Create(() => new WarningRecorder(lines)));
        system.EventStream.Subscribe(recorder, typeof(Warning));
        return lines;
    }

    private sealed class WarningRecorder : ReceiveActor
    {
        public WarningRecorder(ConcurrentQueue<string> lines) => Receive<Warning>(warning => lines.Enqueue(warning.ToString()));
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public async Task DisposeAsync()
    {
        foreach (var host in _intruders)
        {
            await host.StopAsync();
            host.Dispose();
        }

        if (_cluster is not null) await _cluster.DisposeAsync();
        _certificates.Dispose();
    }
}
