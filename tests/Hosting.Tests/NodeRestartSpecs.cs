using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// What survives a full cluster restart (DESIGN.md §1 and §5): detached actors and their state. Actors owned by a
/// session of the stopped node die with it, OWNER_DIED. Each test starts two nodes in turn on one data folder.
/// </summary>
public sealed class NodeRestartSpecs : IDisposable
{
    private readonly TempDataDirectory _data = new();

    [Fact]
    public async Task Detached_actor_survives_a_full_node_restart_with_its_id_and_balance()
    {
        var key = $"saver-{Guid.NewGuid():N}";
        ActorInfo saver;
        await using (var first = await InProcessCluster.StartAsync(data: _data))
        {
            await using var session = first.NewSession();
            saver = await session.OpenAsync("Saver", new AccountOptions(100m, 10m) { Key = key, Detached = true });
            Assert.Equal(125m, await session.DepositAsync(saver, 25m));
        }

        await using var second = await InProcessCluster.StartAsync(data: _data);
        await using var again = second.NewSession();

        var found = await again.GetActorAsync("Saver");
        Assert.Equal(saver.Id, found.Id);
        Assert.Equal(key, found.Key);
        Assert.Equal(ActorState.Alive, found.State);
        Assert.Equal(125m, await again.BalanceAsync(found));
        Assert.Equal(115m, await again.WithdrawAsync(found, 10m));
    }

    [Fact]
    public async Task Actor_of_a_session_on_a_stopped_node_is_dead_with_OWNER_DIED_after_the_restart()
    {
        ActorInfo spender;
        ActorInfo saver;
        await using (var first = await InProcessCluster.StartAsync(data: _data))
        {
            // The session is never disposed: its node stops under it, as a driver's process dies.
            var session = first.NewSession();
            spender = await session.OpenAsync("Spender", new AccountOptions(50m, 0m));
            saver = await session.OpenAsync("Saver", new AccountOptions(100m, 0m) { Detached = true });
        }

        await using var second = await InProcessCluster.StartAsync(data: _data);
        await using var again = second.NewSession();

        // The registry releases orphans before it answers anything, so the first answer after the restart is right.
        var actors = await again.ListAsync();
        var dead = Assert.Single(actors, a => a.Name == "Spender");
        Assert.Equal(spender.Id, dead.Id);
        Assert.Equal(ActorState.Dead, dead.State);
        Assert.Equal(DeathCauses.OwnerDied, dead.DeathCause);
        Assert.Equal(ActorState.Alive, Assert.Single(actors, a => a.Name == "Saver").State);
        var error = await Assert.ThrowsAsync<BankException>(() => again.GetActorAsync("Spender"));
        Assert.Equal(ErrorKind.ActorNotFound, error.Kind);
        var stale = await Assert.ThrowsAsync<BankException>(() => again.BalanceAsync(spender));
        Assert.Equal(ErrorKind.ActorDied, stale.Kind);
        Assert.Equal(saver.Id, (await again.GetActorAsync("Saver")).Id);
    }

    [Fact]
    public async Task The_first_open_after_a_restart_gets_a_new_actor_for_the_name_of_an_orphan()
    {
        ActorInfo orphan;
        await using (var first = await InProcessCluster.StartAsync(data: _data))
        {
            orphan = await first.NewSession().OpenAsync("Spender0", new AccountOptions(1m, 0m));
        }

        await using var second = await InProcessCluster.StartAsync(data: _data);
        await using var again = second.NewSession();

        var reopened = await again.OpenAsync("Spender0", new AccountOptions(1m, 0m) { GetIfExists = true });

        Assert.NotEqual(orphan.Id, reopened.Id);
        Assert.Equal(ActorState.Alive, reopened.State);
        Assert.Equal(again.Owner, reopened.Owner);
        Assert.Equal(1m, await again.BalanceAsync(reopened));
    }

    public void Dispose() => _data.Dispose();
}
