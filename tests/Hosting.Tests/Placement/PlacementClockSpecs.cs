using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Issue 17, point 5: the placement coordinator times an open that waits for a node on its own monotonic clock, from when
/// it saw the open, so a wall clock set forward an hour (NTP, a resumed VM) fails no pending open early.
/// </summary>
public sealed class PlacementClockSpecs
{
    private const string CpuOnly = "cpu=4,gpu=0,memory=8GiB";
    private const string GpuNode = "cpu=4,gpu=4,memory=8GiB";

    [Fact]
    public async Task A_wall_clock_jump_of_an_hour_fails_no_pending_open_early()
    {
        var clock = new JumpingClock();
        await using var cluster = InProcessCluster.Empty("bank.resources.pending-timeout = 20s");
        cluster.Clock = clock;
        await cluster.JoinAsync(CpuOnly);
        await using var session = cluster.NewSession();

        var opening = session.OpenAsync("trainer", new AccountOptions(10m, 0m) { NumGpus = 4 });
        await Eventually.ReadsAsync(() => session.ListAsync(),
            actors => actors.Any(a => a.Name == "trainer" && a.State == ActorState.PendingCreation), "the open to be pending");

        clock.Jump(TimeSpan.FromHours(1));

        // The coordinator tries waiting opens every 500 ms; with the wall clock each try would find this one an hour old.
        await Holds.ForAsync(TimeSpan.FromSeconds(3), () =>
        {
            Assert.False(opening.IsCompleted, opening.Exception?.InnerException?.Message ?? "the open ended early");
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(250));
        var gpuNode = await cluster.JoinAsync(GpuNode);
        var trainer = await opening;

        Assert.Equal((InProcessCluster.AddressOf(gpuNode), ActorState.Alive), (trainer.Node, trainer.State));
        Assert.Equal(15m, await session.DepositAsync(trainer, 5m));
    }
}
