using Akka.Actor;
using Akka.Configuration;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Door;
using Xunit;

namespace Bank.Hosting.Tests.Door;

/// <summary>A node with a client door in plain text (the door's own logic; its TLS is DoorTlsSpecs'), and two fixed credentials.</summary>
public sealed class PlainDoorFixture : IAsyncLifetime
{
    public const string ClientCredential = "client-credential";
    public const string AdminCredential = "admin-credential";

    public InProcessCluster Cluster { get; private set; } = null!;

    public ClientDoor Door { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await InProcessCluster.StartAsync();
        Door = ClientDoor.Start("127.0.0.1", 0, tls: null, credential => credential switch
        {
            ClientCredential => DoorAccess.Client,
            AdminCredential => DoorAccess.Admin,
            _ => DoorAccess.Refused,
        });
        Door.Open(Cluster.Seed.System);
    }

    public async Task DisposeAsync()
    {
        await Door.DisposeAsync();
        await Cluster.DisposeAsync();
    }

    public Task<BankClient> ConnectAsync(string credential) =>
        BankClient.ConnectToDoorsAsync([Door.Address], credential, tls: null, Config.Empty);
}

/// <summary>
/// A node's client door: each request carries a credential, the credential's role decides what may pass
/// (<see cref="DoorPolicy"/>), refusals are Unauthorized, and nothing internal gets through.
/// </summary>
public sealed class ClientDoorSpecs(PlainDoorFixture fixture) : IClassFixture<PlainDoorFixture>
{
    [Fact]
    public async Task A_client_opens_deposits_withdraws_reads_transfers_and_lists_through_the_door()
    {
        await using var client = await fixture.ConnectAsync(PlainDoorFixture.ClientCredential);
        await using var session = client.OpenSession();

        var saver = await session.OpenAsync("door-saver", new AccountOptions(100m, 0m));
        var spender = await session.OpenAsync("door-spender", new AccountOptions(0m, 0m));
        Assert.Equal(150m, await session.DepositAsync(saver, 50m));
        Assert.Equal(120m, await session.WithdrawAsync(saver, 30m));
        Assert.Equal(120m, await session.BalanceAsync("door-saver"));
        var moved = await session.TransferAsync(saver, spender, 20m);

        Assert.Equal((100m, 20m), (moved.FromBalance, moved.ToBalance));
        Assert.Contains(await session.ListAsync(), actor => actor.Name == "door-spender");
    }

    [Fact]
    public async Task A_client_credential_may_not_change_the_cluster_or_inject_faults()
    {
        await using var client = await fixture.ConnectAsync(PlainDoorFixture.ClientCredential);
        await using var session = client.OpenSession();

        var down = await Assert.ThrowsAsync<BankException>(() => session.ChangeMembershipAsync(ChangeMembership.Down, "127.0.0.1:1"));
        var crash = await Assert.ThrowsAsync<BankException>(() => session.CrashAsync("door-nobody"));
        var kill = await Assert.ThrowsAsync<BankException>(() => session.KillNodeAsync("127.0.0.1:1"));

        Assert.All([down, crash, kill], refused => Assert.Equal(ErrorKind.Unauthorized, refused.Kind));
        Assert.Equal("ChangeMembership needs an admin certificate; this one is a client's", down.Message);
    }

    [Fact]
    public async Task An_admin_credential_may_change_the_cluster()
    {
        await using var client = await fixture.ConnectAsync(PlainDoorFixture.AdminCredential);
        await using var session = client.OpenSession();

        // Past the door: the node's inspector answers (no member at that address), not the door.
        var answer = await Assert.ThrowsAsync<BankException>(() => session.ChangeMembershipAsync(ChangeMembership.Down, "127.0.0.1:1"));

        Assert.Equal(ErrorKind.ActorNotFound, answer.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("client-credentiaL")]
    [InlineData("a credential of another cluster")]
    public async Task A_request_with_a_credential_the_door_does_not_grant_is_unauthorized(string credential)
    {
        await using var client = await fixture.ConnectAsync(credential);
        await using var session = client.OpenSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.ListAsync());
        var call = await Assert.ThrowsAsync<BankException>(() => session.BalanceAsync("door-saver"));

        Assert.Equal((ErrorKind.Unauthorized, ErrorKind.Unauthorized), (refused.Kind, call.Kind));
    }

    [Fact]
    public async Task A_request_without_a_credential_is_unauthorized()
    {
        using var raw = ActorSystem.Create("raw", RawConfig);
        var door = raw.ActorSelection($"akka.tcp://{BankConstants.DoorSystemName}@{fixture.Door.Address}{BankConstants.DoorPath}");

        var answer = await door.Ask<object>(ListActors.Instance, TimeSpan.FromSeconds(10));

        Assert.Equal(ErrorKind.Unauthorized, Assert.IsType<Rejected>(answer).Kind);
        await raw.Terminate();
    }

    [Fact]
    public async Task Internal_messages_never_pass_the_door_even_with_an_admin_credential_and_no_money_moves()
    {
        await using var client = await fixture.ConnectAsync(PlainDoorFixture.AdminCredential);
        await using var session = client.OpenSession();
        var account = await session.OpenAsync("door-internal", new AccountOptions(10m, 0m));
        using var raw = ActorSystem.Create("raw", RawConfig);
        var door = raw.ActorSelection($"akka.tcp://{BankConstants.DoorSystemName}@{fixture.Door.Address}{BankConstants.DoorPath}");
        IBankMessage[] internals =
        [
            new RecordPlacement(account.Name, account.Id, "akka.tcp://bank@127.0.0.1:1"),
            new ReleasePlacement(account.Id),
            new InjectCrash(account.Key, account.Id, 1),
            new AccountRequest(account.Key, account.Id, new Deposit(5m, "r-placed"), Placement: "akka.tcp://bank@127.0.0.1:1"),
            new StoreBatch(1, []),
        ];

        foreach (var message in internals)
        {
            var answer = await door.Ask<object>(new Credentialed(PlainDoorFixture.AdminCredential, message), TimeSpan.FromSeconds(10));
            Assert.Equal(ErrorKind.Unauthorized, Assert.IsType<Rejected>(answer).Kind);
        }

        // A refund through the account's own door for clients is the gateway's business: refused there, no money made.
        var refund = await door.Ask<object>(new Credentialed(PlainDoorFixture.AdminCredential,
            new AccountRequest(account.Key, account.Id, new Refund(1000m, "transfer:t-1:refund"))), TimeSpan.FromSeconds(10));
        Assert.IsType<Rejected>(refund);
        Assert.Equal(10m, await session.BalanceAsync(account));
        await raw.Terminate();
    }

    /// <summary>A bare remoting system with Bank's serializer: what any peer of the door could run.</summary>
    private static Config RawConfig => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.actor.serializers.bank = "{{typeof(Serialization.BankSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings { "{{typeof(IBankMessage).AssemblyQualifiedName}}" = bank }
        akka.loglevel = ERROR
        """);
}
