using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Door;
using Bank.Hosting.Security;
using Bank.Hosting.Tests.Security;
using Xunit;

namespace Bank.Hosting.Tests.Door;

/// <summary>A TLS node of its own CA (a small tunnel bound), on which each spec opens a client door of its own.</summary>
public sealed class TlsNodeFixture : IAsyncLifetime
{
    public const int TunnelBound = 3;

    public IssuedCertificates Certificates { get; private set; } = null!;

    public InProcessCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Certificates = new IssuedCertificates();
        Cluster = InProcessCluster.Empty($"bank.door.max-response-tunnels = {TunnelBound}");
        await Cluster.JoinAsync(tls: TlsIdentity.Load(Certificates.Node));
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Certificates.Dispose();
    }

    public ClientDoor OpenDoor()
    {
        var door = ClientDoor.Start(TlsIdentity.Load(Certificates.Node), "127.0.0.1", 0);
        door.Open(Cluster.Seed.System);
        return door;
    }

    /// <summary>A remoting system with a client certificate of the CA: a client that writes its own messages.</summary>
    public ActorSystem RawClient()
    {
        var client = TlsIdentity.Load(Certificates.Client);
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, enable-ssl = on }
            akka.actor.serializers.bank = "{{typeof(Serialization.BankSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(IBankMessage).AssemblyQualifiedName}}" = bank }
            akka.loglevel = ERROR
            """);
        return ActorSystem.Create("raw", ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config),
            new DotNettySslSetup(client.Certificate, suppressValidation: false, requireMutualAuthentication: true,
                validateCertificateHostname: false, customValidator: PeerCertificates.Accept(client.Authority, BankRole.Node))));
    }

    public string Credential => TlsIdentity.Load(Certificates.Client).Credential!;
}

/// <summary>
/// What a holder of a client certificate can do to a door with the senders it writes and the paths it names: the door
/// answers only clients connected to it (never dialing out), relays no message into the node's log, and bounds its tunnels.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class DoorSenderSpecs(TlsNodeFixture fixture) : IClassFixture<TlsNodeFixture>
{
    public enum Claimed { ANodesClusterPort, TheDoorsOwnPort, APortNothingListensOn }

    [Theory]
    [InlineData(Claimed.ANodesClusterPort)]
    [InlineData(Claimed.TheDoorsOwnPort)]
    [InlineData(Claimed.APortNothingListensOn)]
    public async Task A_sender_claiming_another_address_gets_no_answer_and_the_door_stays_up(Claimed claimed)
    {
        await using var door = fixture.OpenDoor();
        using var nothing = FreePort.Hold();
        var port = claimed switch
        {
            Claimed.ANodesClusterPort => InProcessCluster.HostPortOf(fixture.Cluster.Seed).Split(':')[1],
            Claimed.TheDoorsOwnPort => door.Address.Split(':')[1],
            _ => nothing.Port.ToString(),
        };
        using var raw = fixture.RawClient();
        var forged = ((ExtendedActorSystem)raw).Provider.ResolveActorRef($"akka.ssl.tcp://bank@127.0.0.1:{port}/user/forged");
        var receptionist = raw.ActorSelection($"akka.ssl.tcp://{BankConstants.DoorSystemName}@{door.Address}{BankConstants.DoorPath}");

        // One that passes the door (its answer would come through a tunnel), one refused, one without a credential.
        receptionist.Tell(new Credentialed(fixture.Credential, ListActors.Instance), forged);
        receptionist.Tell(new Credentialed("forged", ListActors.Instance), forged);
        receptionist.Tell(ListActors.Instance, forged);

        await Eventually.HoldsAsync(() => door.Peers.Dropped >= 3 || door.Restarts > 0, "the door to drop the three requests");
        Assert.Equal((0, 3L), (door.Restarts, door.Peers.Dropped));
        await using var client = await BankClient.ConnectAsync([door.Address], TlsIdentity.Load(fixture.Certificates.Client));
        await using var session = client.OpenSession();
        var account = await session.OpenAsync($"forged-{claimed}", new AccountOptions(10m, 0m));
        Assert.Equal(15m, await session.DepositAsync(account, 5m));
        Assert.Equal(0, door.Restarts);
        await raw.Terminate();
    }

    [Fact]
    public async Task At_most_1024_requests_from_senders_not_connected_wait_the_rest_are_dropped_at_once()
    {
        await using var door = fixture.OpenDoor();
        using var nothing = FreePort.Hold();
        using var raw = fixture.RawClient();
        var forged = ((ExtendedActorSystem)raw).Provider.ResolveActorRef($"akka.ssl.tcp://bank@127.0.0.1:{nothing.Port}/user/forged");
        var answers = new List<object>();
        var marker = raw.ActorOf(Props.Create(() => new Collector(answers)));
        var receptionist = raw.ActorSelection($"akka.ssl.tcp://{BankConstants.DoorSystemName}@{door.Address}{BankConstants.DoorPath}");

        for (var i = 0; i < 1024 + 8; i++) receptionist.Tell(ListActors.Instance, forged);
        // Same connection, so in order: when the marker's refusal comes back, the door has seen every forged request.
        receptionist.Tell(ListActors.Instance, marker);

        await Eventually.HoldsAsync(() => { lock (answers) return answers.Count == 1; }, "the marker's refusal");
        Assert.True(door.Peers.Dropped >= 8, $"dropped {door.Peers.Dropped} at once");
        await Eventually.HoldsAsync(() => door.Peers.Dropped == 1024 + 8, "the waiting ones dropped too");
        await raw.Terminate();
    }

    [Fact]
    public async Task An_Identify_from_a_sender_claiming_a_nodes_cluster_port_does_not_stop_the_door()
    {
        await using var door = fixture.OpenDoor();
        var cluster = InProcessCluster.HostPortOf(fixture.Cluster.Seed).Split(':')[1];
        using var raw = fixture.RawClient();
        var forged = ((ExtendedActorSystem)raw).Provider.ResolveActorRef($"akka.ssl.tcp://bank@127.0.0.1:{cluster}/user/forged");
        var receptionist = raw.ActorSelection($"akka.ssl.tcp://{BankConstants.DoorSystemName}@{door.Address}{BankConstants.DoorPath}");

        // Akka answers an Identify itself, before any actor of the door sees it: only the door's transport, which never
        // connects out, keeps that answer from dialing the cluster port, whose node certificate the door would refuse.
        receptionist.Tell(new Identify(1), forged);
        var own = await receptionist.Ask<ActorIdentity>(new Identify(2), TimeSpan.FromSeconds(10));

        Assert.NotNull(own.Subject);
        await Holds.ForAsync(TimeSpan.FromSeconds(2), () =>
        {
            Assert.False(door.System.WhenTerminated.IsCompleted, "the door's system stopped");
            return Task.CompletedTask;
        });
        Assert.Equal(0, door.Restarts);
        await raw.Terminate();
    }

    [Fact]
    public async Task A_door_whose_system_stops_anyway_starts_again_on_its_port_and_the_node_stays_up()
    {
        await using var door = fixture.OpenDoor();
        var first = door.System;

        await CoordinatedShutdown.Get(first).Run(CoordinatedShutdown.UnknownReason.Instance);

        await Eventually.HoldsAsync(() => door.Restarts == 1, "the door to start again");
        Assert.NotSame(first, door.System);
        await using var client = await BankClient.ConnectAsync([door.Address], TlsIdentity.Load(fixture.Certificates.Client));
        await using var session = client.OpenSession();
        var account = await session.OpenAsync("after-restart", new AccountOptions(10m, 0m));
        Assert.Equal(15m, await session.DepositAsync(account, 5m));
        Assert.False(fixture.Cluster.Seed.System.WhenTerminated.IsCompleted);
    }

    [Fact]
    public async Task Messages_sent_by_path_to_the_doors_actors_never_reach_the_nodes_log()
    {
        await using var door = fixture.OpenDoor();
        using var raw = fixture.RawClient();
        var marker = $"forged-{Guid.NewGuid():N}";
        var seen = new List<object>();
        var listener = fixture.Cluster.Seed.System.ActorOf(Props.Create(() => new Collector(seen)));
        fixture.Cluster.Seed.System.EventStream.Subscribe(listener, typeof(Rejected));
        fixture.Cluster.Seed.System.EventStream.Subscribe(listener, typeof(Akka.Event.Warning));
        var doorRoot = $"akka.ssl.tcp://{BankConstants.DoorSystemName}@{door.Address}";
        // A connection first, so that the door would answer (and relay) if it took these.
        await using var client = await BankClient.ConnectAsync([door.Address], TlsIdentity.Load(fixture.Certificates.Client));
        await using var session = client.OpenSession();
        await session.ListAsync();

        foreach (var path in new[] { "/system/log-relay", "/system/hooks/log", "/system/door", "/system", "/user" })
        {
            var target = ((ExtendedActorSystem)raw).Provider.ResolveActorRef(doorRoot + path);
            target.Tell(new Rejected(ErrorKind.RuleViolation, "Forged", marker));
            target.Tell(new Akka.Event.Warning("door-spec", typeof(DoorSenderSpecs), marker));
            raw.ActorSelection(doorRoot + path).Tell(new Rejected(ErrorKind.RuleViolation, "Forged", marker));
        }

        await Holds.ForAsync(TimeSpan.FromSeconds(3), () =>
        {
            lock (seen) Assert.DoesNotContain(seen, logged => logged.ToString()!.Contains(marker));
            return Task.CompletedTask;
        });
        fixture.Cluster.Seed.System.Stop(listener);
        await raw.Terminate();
    }

    [Fact]
    public async Task Past_the_tunnel_bound_a_new_sender_is_refused_in_one_line_and_the_door_stays_up()
    {
        await using var door = fixture.OpenDoor();
        using var raw = fixture.RawClient();
        var receptionist = raw.ActorSelection($"akka.ssl.tcp://{BankConstants.DoorSystemName}@{door.Address}{BankConstants.DoorPath}");
        var answers = Enumerable.Range(0, TlsNodeFixture.TunnelBound + 1).Select(_ => new List<object>()).ToArray();
        var senders = answers.Select(answer => raw.ActorOf(Props.Create(() => new Collector(answer)))).ToArray();

        foreach (var sender in senders)
            receptionist.Tell(new Credentialed(fixture.Credential, ListActors.Instance), sender);

        await Eventually.HoldsAsync(() => answers.All(answer => { lock (answer) return answer.Count > 0; }), "every sender to hear an answer");
        var first = answers.Select(answer => { lock (answer) return answer[0]; }).ToArray();
        var busy = Assert.IsType<Rejected>(Assert.Single(first, answer => answer is Rejected));
        Assert.Equal(("DoorBusy", ErrorKind.ClusterUnreachable), (busy.Code, busy.Kind));
        Assert.DoesNotContain('\n', busy.Message);
        Assert.Equal(0, door.Restarts);
        await raw.Terminate();
    }

    [Fact]
    public async Task Refusals_are_logged_once_per_client_a_minute_and_answered_every_time()
    {
        await using var door = fixture.OpenDoor();
        using var raw = fixture.RawClient();
        var logged = new List<object>();
        var listener = fixture.Cluster.Seed.System.ActorOf(Props.Create(() => new Collector(logged)));
        fixture.Cluster.Seed.System.EventStream.Subscribe(listener, typeof(Akka.Event.Warning));
        var answers = new List<object>();
        var sender = raw.ActorOf(Props.Create(() => new Collector(answers)));
        var receptionist = raw.ActorSelection($"akka.ssl.tcp://{BankConstants.DoorSystemName}@{door.Address}{BankConstants.DoorPath}");
        var client = ((ExtendedActorSystem)raw).Provider.DefaultAddress.ToString();

        for (var i = 0; i < 20; i++) receptionist.Tell(new Credentialed("forged", ListActors.Instance), sender);

        await Eventually.HoldsAsync(() => { lock (answers) return answers.Count == 20; }, "twenty refusals");
        lock (answers) Assert.All(answers, answer => Assert.Equal(ErrorKind.Unauthorized, Assert.IsType<Rejected>(answer).Kind));
        await Holds.ForAsync(TimeSpan.FromSeconds(1), () =>
        {
            lock (logged) Assert.Single(logged, line => line.ToString()!.Contains("door refused") && line.ToString()!.Contains(client));
            return Task.CompletedTask;
        });
        fixture.Cluster.Seed.System.Stop(listener);
        await raw.Terminate();
    }

    [Fact]
    public async Task The_door_builds_no_type_a_payload_names_neither_by_JSON_nor_by_remote_deployment()
    {
        await using var door = fixture.OpenDoor();
        var sentinel = $"{typeof(ForeignSentinel).FullName}, {typeof(ForeignSentinel).Assembly.GetName().Name}";
        const int json = 1, remoteDeployment = 3;

        var byManifest = Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            door.System.Serialization.Deserialize("{\"Text\":\"x\"}"u8.ToArray(), json, sentinel));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            door.System.Serialization.Deserialize(System.Text.Encoding.UTF8.GetBytes($"{{\"$type\":\"{sentinel}\",\"Text\":\"x\"}}"), json, ""));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            door.System.Serialization.Deserialize([1, 2, 3], remoteDeployment, sentinel));

        Assert.Contains("refused a payload", byManifest.Message);
        Assert.False(ForeignTypes.SentinelBuilt, "the named type's static constructor ran");
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(List<object> into) => ReceiveAny(message =>
        {
            lock (into) into.Add(message);
        });
    }
}
