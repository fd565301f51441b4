using Akka.Cluster;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Issue 17, point 5: the registry decides whether a client owner is alive with a monotonic clock, so a wall clock set
/// forward an hour (NTP, a resumed VM) kills no session's actors. The node runs with a clock whose wall time jumps
/// while its monotonic timestamps do not.
/// </summary>
public sealed class RegistryClockSpecs
{
    private static readonly TimeSpan OwnerTimeout = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_wall_clock_jump_of_an_hour_declares_no_owner_dead_and_kills_no_session_actor()
    {
        var clock = new JumpingClock();
        await using var cluster = InProcessCluster.Empty($"bank.client {{ owner-timeout = {OwnerTimeout.TotalSeconds}s, heartbeat-interval = 500ms }}");
        cluster.Clock = clock;
        await cluster.JoinAsync();
        await using var client = await BankClient.ConnectAsync([$"127.0.0.1:{Cluster.Get(cluster.Seed.System).SelfAddress.Port}"]);
        await using var session = client.OpenSession();
        var actor = await session.OpenAsync("clocked", new AccountOptions(10m, 0m));
        Assert.Equal(session.Owner, actor.Owner);

        clock.Jump(TimeSpan.FromHours(1));

        // Several of the registry's owner checks run in this time; with the wall clock each would find the owner silent for an hour.
        await Holds.ForAsync(OwnerTimeout * 2, async () =>
        {
            var found = await session.GetActorAsync("clocked");
            Assert.Equal((actor.Id, ActorState.Alive), (found.Id, found.State));
        }, TimeSpan.FromMilliseconds(500));
        Assert.Equal(15m, await session.DepositAsync(actor, 5m));
    }
}
