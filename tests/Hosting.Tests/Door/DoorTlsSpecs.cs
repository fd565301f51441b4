using System.Diagnostics;
using Akka.Configuration;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Door;
using Bank.Hosting.Security;
using Bank.Hosting.Tests.Security;
using Xunit;

namespace Bank.Hosting.Tests.Door;

/// <summary>Two nodes with node certificates of one CA, each with its client door, and the certificates of that CA and another.</summary>
public sealed class TlsClusterFixture : IAsyncLifetime
{
    public IssuedCertificates Certificates { get; private set; } = null!;

    public InProcessCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Certificates = new IssuedCertificates();
        Cluster = InProcessCluster.Empty();
        var node = TlsIdentity.Load(Certificates.Node);
        await Cluster.JoinAsync(tls: node);
        await Cluster.JoinAsync(tls: node);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Certificates.Dispose();
    }

    /// <summary>HOST:PORT of a node's client door, from the role it announces.</summary>
    public static string DoorOf(RunningNode node) =>
        Akka.Cluster.Cluster.Get(node.System).SelfRoles.Select(ClientDoor.AddressIn).Single(address => address is not null)!;

    public Task<BankClient> ConnectAsync(string folder, RunningNode? node = null) =>
        BankClient.ConnectAsync([DoorOf(node ?? Cluster.Seed)], TlsIdentity.Load(folder));
}

/// <summary>
/// Clients of a TLS cluster come in through the nodes' client doors with a client or admin certificate and the credential
/// issued with it: the role decides what they may do; anything else is refused at once, in one line that names TLS.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class DoorTlsSpecs(TlsClusterFixture fixture) : IClassFixture<TlsClusterFixture>
{
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task A_client_certificate_opens_deposits_withdraws_reads_transfers_and_lists_on_either_node()
    {
        await using var client = await fixture.ConnectAsync(fixture.Certificates.Client, fixture.Cluster.Nodes[1]);
        await using var session = client.OpenSession();

        var saver = await session.OpenAsync("tls-saver", new AccountOptions(100m, 0m));
        var spender = await session.OpenAsync("tls-spender", new AccountOptions(0m, 0m));
        Assert.Equal(150m, await session.DepositAsync(saver, 50m));
        Assert.Equal(120m, await session.WithdrawAsync("tls-saver", 30m));
        Assert.Equal(120m, await session.BalanceAsync(saver));
        var moved = await session.TransferAsync(saver, spender, 20m);

        Assert.Equal((100m, 20m), (moved.FromBalance, moved.ToBalance));
        Assert.Contains(await session.ListAsync(), actor => actor.Name == "tls-spender");
        Assert.Equal(2, (await session.ClusterViewAsync()).Members.Count);
    }

    [Fact]
    public async Task A_client_certificate_may_not_change_the_cluster_or_inject_faults_and_an_admin_one_may()
    {
        await using var client = await fixture.ConnectAsync(fixture.Certificates.Client);
        await using var clientSession = client.OpenSession();
        await using var admin = await fixture.ConnectAsync(fixture.Certificates.Admin);
        await using var adminSession = admin.OpenSession();

        var down = await Assert.ThrowsAsync<BankException>(() => clientSession.ChangeMembershipAsync(ChangeMembership.Down, "127.0.0.1:1"));
        var crash = await Assert.ThrowsAsync<BankException>(() => clientSession.CrashAsync("tls-nobody"));
        var kill = await Assert.ThrowsAsync<BankException>(() => clientSession.KillNodeAsync("127.0.0.1:1"));
        // Past the door: the inspector and the gateway answer, not the door.
        var adminDown = await Assert.ThrowsAsync<BankException>(() => adminSession.ChangeMembershipAsync(ChangeMembership.Down, "127.0.0.1:1"));
        var adminCrash = await Assert.ThrowsAsync<BankException>(() => adminSession.CrashAsync("tls-nobody"));

        Assert.All([down, crash, kill], refused => Assert.Equal(ErrorKind.Unauthorized, refused.Kind));
        Assert.Equal(ErrorKind.ActorNotFound, adminDown.Kind);
        Assert.NotEqual(ErrorKind.Unauthorized, adminCrash.Kind);
    }

    [Fact]
    public async Task A_tampered_credential_or_one_of_another_CA_is_unauthorized()
    {
        var own = TlsIdentity.Load(fixture.Certificates.Client);
        var other = TlsIdentity.Load(fixture.Certificates.OtherClient);
        var tampered = own.Credential![..^2] + (own.Credential[^2] == 'A' ? "B" : "A") + own.Credential[^1];

        foreach (var credential in new[] { tampered, other.Credential!, own.Credential + "x" })
        {
            await using var client = await BankClient.ConnectToDoorsAsync([TlsClusterFixture.DoorOf(fixture.Cluster.Seed)], credential,
                new DoorClientTls(own.Certificate, PeerCertificates.Accept(own.Authority, BankRole.Node)), Config.Empty);
            await using var session = client.OpenSession();

            var refused = await Assert.ThrowsAsync<BankException>(() => session.ListAsync());

            Assert.Equal(ErrorKind.Unauthorized, refused.Kind);
        }
    }

    [Fact]
    public async Task A_client_without_TLS_hears_at_once_that_the_node_requires_it()
    {
        var watch = Stopwatch.StartNew();
        await using var client = await BankClient.ConnectAsync([TlsClusterFixture.DoorOf(fixture.Cluster.Seed)]);
        await using var session = client.OpenSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.ListAsync());

        Assert.Equal(ErrorKind.ClusterUnreachable, refused.Kind);
        Assert.Contains("requires TLS: give --tls DIR", refused.Message);
        Assert.True(watch.Elapsed < AtOnce, $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_client_certificate_of_another_CA_is_refused_at_once_naming_TLS()
    {
        var watch = Stopwatch.StartNew();
        await using var client = await fixture.ConnectAsync(fixture.Certificates.OtherClient);
        await using var session = client.OpenSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.ListAsync());

        Assert.Equal(ErrorKind.ClusterUnreachable, refused.Kind);
        Assert.Contains("TLS", refused.Message);
        Assert.True(watch.Elapsed < AtOnce, $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task The_door_refuses_a_certificate_of_another_CA_even_from_a_peer_that_trusts_everyone_and_holds_a_good_credential()
    {
        var own = TlsIdentity.Load(fixture.Certificates.Client);
        var intruder = TlsIdentity.Load(fixture.Certificates.OtherClient);
        await using var client = await BankClient.ConnectToDoorsAsync([TlsClusterFixture.DoorOf(fixture.Cluster.Seed)], own.Credential!,
            new DoorClientTls(intruder.Certificate, (_, _, _, _, _) => true), Config.Empty);
        await using var session = client.OpenSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.ListAsync());

        Assert.Equal(ErrorKind.ClusterUnreachable, refused.Kind);
        Assert.Contains("refused this TLS certificate", refused.Message);
    }

    [Fact]
    public async Task A_client_certificate_at_the_cluster_port_is_refused_at_once_naming_TLS()
    {
        var watch = Stopwatch.StartNew();
        await using var client = await BankClient.ConnectAsync([InProcessCluster.HostPortOf(fixture.Cluster.Seed)],
            TlsIdentity.Load(fixture.Certificates.Client));
        await using var session = client.OpenSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.ListAsync());

        Assert.Equal(ErrorKind.ClusterUnreachable, refused.Kind);
        Assert.Contains("refused this TLS certificate", refused.Message);
        Assert.True(watch.Elapsed < AtOnce, $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_node_certificate_is_no_client_certificate()
    {
        var refused = await Assert.ThrowsAsync<TlsSetupException>(() => BankClient.ConnectAsync(["127.0.0.1:1"], TlsIdentity.Load(fixture.Certificates.Node)));

        Assert.Contains("--role client or --role admin", refused.Message);
    }
}
