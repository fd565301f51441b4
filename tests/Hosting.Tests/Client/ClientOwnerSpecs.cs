using System.Diagnostics;
using Akka.Cluster;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// A node that gives a silent client 6 s (three of the client's 2 s heartbeats) and checks its owners twice a second,
/// so a test sees a vanished client's actors die within seconds.
/// </summary>
public sealed class ShortOwnerTimeoutFixture : BankNodeFixture
{
    public static readonly TimeSpan OwnerTimeout = TimeSpan.FromSeconds(6);

    protected override string Hocon =>
        base.Hocon + $"\nbank.client {{ owner-timeout = {OwnerTimeout.TotalSeconds}s, heartbeat-interval = 500ms }}";
}

/// <summary>
/// A BankClient in its own actor system reaches the node through ClusterClient (issue 3): the account commands work with
/// typed results and errors, and a client session owns its actors that are not detached, which die with OWNER_DIED
/// when the session is disposed or the client's heartbeats stop. A session inside the node, by contrast, needs no
/// heartbeats: its owner lives as long as the node.
/// </summary>
public class ClientOwnerSpecs(ShortOwnerTimeoutFixture fixture) : BankNodeSpec<ShortOwnerTimeoutFixture>(fixture)
{
    private static readonly AccountOptions Hundred = new(100m, 10m);

    private string Contact => $"127.0.0.1:{Cluster.Get(Sys).SelfAddress.Port}";

    [Fact]
    public async Task Open_deposit_withdraw_balance_list_history_and_kill_work_through_the_cluster_client()
    {
        await using var client = await BankClient.ConnectAsync([Contact]);
        await using var session = client.OpenSession();
        var name = Unique("remote");

        var actor = await session.OpenAsync(name, Hundred);
        Assert.Equal(ActorState.Alive, actor.State);
        Assert.Equal(session.Owner, actor.Owner);
        Assert.StartsWith("client:", session.Owner, StringComparison.Ordinal);
        Assert.Equal(150m, await session.DepositAsync(actor, 50m));
        Assert.Equal(120m, await session.WithdrawAsync(actor, 30m));
        Assert.Equal(120m, await session.BalanceAsync(actor));
        Assert.Equal(actor.Id, (await session.GetActorAsync(name)).Id);
        var listed = Assert.Single(await session.ListAsync(), a => a.Name == name);
        Assert.Equal(ActorState.Alive, listed.State);
        Assert.Equal(Cluster.Get(Sys).SelfAddress.ToString(), listed.Node);

        var history = await session.HistoryAsync(name);
        Assert.Equal(actor.Key, history.Key);
        Assert.Equal(new[] { "opened", "deposited", "withdrawn" }, history.Events.Select(e => e.Type));
        Assert.Equal(new[] { 100m, 150m, 120m }, history.Events.Select(e => e.Balance));

        var killed = await session.KillAsync(name);
        Assert.Equal(ActorState.Dead, killed.State);
        Assert.Equal(DeathCauses.Killed, killed.DeathCause);
        var notFound = await Assert.ThrowsAsync<BankException>(() => session.GetActorAsync(name));
        Assert.Equal(ErrorKind.ActorNotFound, notFound.Kind);
    }

    [Fact]
    public async Task Errors_through_the_cluster_client_are_typed()
    {
        await using var client = await BankClient.ConnectAsync([Contact]);
        await using var session = client.OpenSession();
        var name = Unique("typed");
        var actor = await session.OpenAsync(name, Hundred);

        var rule = await Assert.ThrowsAsync<BankException>(() => session.WithdrawAsync(actor, 95m));
        Assert.Equal(ErrorKind.RuleViolation, rule.Kind);
        Assert.Equal("Withdrawal is not supported by current balance", rule.Message);
        Assert.Equal(100m, await session.BalanceAsync(actor));

        var taken = await Assert.ThrowsAsync<BankException>(() => session.OpenAsync(name, Hundred));
        Assert.Equal(ErrorKind.AlreadyExists, taken.Kind);
        Assert.Equal($"Actor with name '{name}' already exists", taken.Message);

        var nobody = Unique("nobody");
        var notFound = await Assert.ThrowsAsync<BankException>(() => session.KillAsync(nobody));
        Assert.Equal(ErrorKind.ActorNotFound, notFound.Kind);
        Assert.Equal($"no actor named '{nobody}'", notFound.Message);

        await session.KillAsync(name);
        var died = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(actor, 1m));
        Assert.Equal(ErrorKind.ActorDied, died.Kind);
    }

    [Fact]
    public async Task A_client_sessions_actor_lives_while_the_client_does_and_dies_with_OWNER_DIED_when_its_process_is_gone()
    {
        await using var observer = Fixture.Cluster.NewSession();
        var client = await BankClient.ConnectAsync([Contact]);
        // Never disposed: its process goes away under it.
        var session = client.OpenSession();
        var owned = await session.OpenAsync(Unique("owned"), Hundred);
        var detached = await session.OpenAsync(Unique("detached"), Hundred with { Detached = true });
        await session.DepositAsync(detached, 5m);

        // Heartbeats keep the owner alive past the timeout a silent client gets.
        await Holds.ForAsync(ShortOwnerTimeoutFixture.OwnerTimeout + TimeSpan.FromSeconds(1), async () =>
        {
            var actors = await observer.ListAsync();
            Assert.Equal(ActorState.Alive, Assert.Single(actors, a => a.Name == owned.Name).State);
        });
        Assert.Equal(100m, await session.BalanceAsync(owned));

        // The client's actor system stops, as when its process dies: no more heartbeats, no goodbye.
        await client.DisposeAsync();

        await AwaitAssertAsync(async () =>
        {
            var dead = Assert.Single(await observer.ListAsync(), a => a.Name == owned.Name);
            Assert.Equal(ActorState.Dead, dead.State);
            Assert.Equal(DeathCauses.OwnerDied, dead.DeathCause);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500));
        var kept = Assert.Single(await observer.ListAsync(), a => a.Name == detached.Name);
        Assert.Equal(ActorState.Alive, kept.State);
        Assert.Equal(105m, await observer.BalanceAsync(kept));
        var died = await Assert.ThrowsAsync<BankException>(() => observer.BalanceAsync(owned));
        Assert.Equal(ErrorKind.ActorDied, died.Kind);
    }

    [Fact]
    public async Task Disposing_a_client_session_kills_its_actors_with_OWNER_DIED_at_once_and_keeps_detached_ones()
    {
        await using var observer = Fixture.Cluster.NewSession();
        await using var client = await BankClient.ConnectAsync([Contact]);
        var session = client.OpenSession();
        var owned = await session.OpenAsync(Unique("owned"), Hundred);
        var detached = await session.OpenAsync(Unique("detached"), Hundred with { Detached = true });

        await session.DisposeAsync();

        // No waiting: the dispose returns once the registry has recorded the deaths.
        var actors = await observer.ListAsync();
        var dead = Assert.Single(actors, a => a.Name == owned.Name);
        Assert.Equal(ActorState.Dead, dead.State);
        Assert.Equal(DeathCauses.OwnerDied, dead.DeathCause);
        Assert.Equal(ActorState.Alive, Assert.Single(actors, a => a.Name == detached.Name).State);
        await using var other = client.OpenSession();
        var died = await Assert.ThrowsAsync<BankException>(() => other.BalanceAsync(owned));
        Assert.Equal(ErrorKind.ActorDied, died.Kind);
        Assert.Equal(100m, await other.BalanceAsync(detached));
    }

    [Fact]
    public async Task A_node_local_sessions_actor_stays_alive_while_its_node_is_up()
    {
        await using var session = Fixture.Cluster.NewSession();
        var owned = await session.OpenAsync(Unique("node-owned"), Hundred);

        // The registry checks its owners twice a second here: the node is up, so the owner is never gone.
        await Holds.ForAsync(TimeSpan.FromSeconds(2), async () =>
        {
            var listed = Assert.Single(await session.ListAsync(), a => a.Name == owned.Name);
            Assert.Equal(ActorState.Alive, listed.State);
        });
        Assert.Equal(100m, await session.BalanceAsync(owned));
    }

    [Fact]
    public async Task Connecting_where_no_node_listens_fails_quickly_with_ClusterUnreachable()
    {
        var port = FreePort.Next();
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<BankException>(() => BankClient.ConnectAsync([$"127.0.0.1:{port}"]));

        Assert.Equal(ErrorKind.ClusterUnreachable, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
