using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Issue 17, point 5: the placement coordinator times an open that waits for a node on its own monotonic clock, from when
/// it saw the open, and an account's supervisor times the calls it holds for a node from when it first asked, so a wall
/// clock set forward an hour (NTP, a resumed VM) fails no pending open or held call early.
/// </summary>
public sealed class PlacementClockSpecs
{
    private const string CpuOnly = "cpu=4,gpu=0,memory=8GiB";
    private const string GpuNode = "cpu=4,gpu=4,memory=8GiB";
    private const string BigMemory = "cpu=4,gpu=0,memory=64GiB";

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

    [Fact]
    public async Task A_wall_clock_jump_of_an_hour_fails_no_call_early_that_waits_for_a_node_that_fits()
    {
        var clock = new JumpingClock();
        await using var cluster = InProcessCluster.Empty("bank.resources.pending-timeout = 20s");
        cluster.Clock = clock;
        await cluster.JoinAsync(CpuOnly);
        var big = await cluster.JoinAsync(BigMemory);
        await using var session = cluster.NewSession();
        var hog = await session.OpenAsync("hog", new AccountOptions(10m, 0m) { Memory = 32m * 1024 * 1024 * 1024 });
        await cluster.LeaveAsync(big);
        await Eventually.ReadsAsync(async () => (await session.ListAsync()).Single(a => a.Name == "hog"),
            a => a.State == ActorState.PendingCreation, "the hog to wait for a node");

        // Straight to the account, so no client resends hide a refusal: its supervisor holds the call while no node fits.
        var accounts = cluster.Seed.Registry.Get<AccountRegionKey>();
        var deposit = accounts.Ask<object>(new AccountRequest(hog.Key, hog.Id, new Deposit(5m, "clock-jump")), TimeSpan.FromSeconds(40));
        await Holds.ForAsync(TimeSpan.FromSeconds(2), () =>
        {
            Assert.False(deposit.IsCompleted, "the call was answered before the jump");
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(250));

        clock.Jump(TimeSpan.FromHours(1));

        // The supervisor checks its held calls every second; with the wall clock it would find this one an hour old.
        await Holds.ForAsync(TimeSpan.FromSeconds(3), () =>
        {
            Assert.False(deposit.IsCompleted, "the held call was answered after the jump, before a node fits");
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(250));
        await cluster.JoinAsync(BigMemory);

        Assert.IsNotType<Rejected>(await deposit);
        Assert.Equal(20m, await session.DepositAsync(hog, 5m));
    }
}
