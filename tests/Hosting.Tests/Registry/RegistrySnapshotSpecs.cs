using Akka.Actor;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// The registry snapshots its table of names after N events (5 here), then after as many events as its last snapshot
/// held (here at events 5 and 10), and a restarted node recovers the table from the newest snapshot plus the events
/// after it. Each test starts two nodes in turn on one data folder.
/// </summary>
public sealed class RegistrySnapshotSpecs : IDisposable
{
    private const int SnapshotEvery = 5;
    private readonly TempDataDirectory _data = new();

    [Fact]
    public async Task Twelve_detached_actors_are_alive_with_their_ids_after_a_restart_from_a_registry_snapshot()
    {
        var opened = new List<ActorInfo>();
        await using (var first = await StartNodeAsync())
        {
            await using var session = first.NewSession();
            for (var i = 0; i < 12; i++)
                opened.Add(await session.OpenAsync($"Saver{i:00}", new AccountOptions(i, 0m) { Detached = true }));

            // Snapshots are saved asynchronously: the one at event 10 must be stored before the restart can use it.
            await Eventually.ReadsAsync(() => NewestRegistrySnapshotAsync(first.Seed.System), newest => newest == 10,
                "the registry's snapshot at event 10", TimeSpan.FromSeconds(10));
        }

        await using var second = await StartNodeAsync();
        await using var again = second.NewSession();

        var live = (await again.ListAsync()).Where(a => a.State == ActorState.Alive).OrderBy(a => a.Name, StringComparer.Ordinal);
        Assert.Equal(opened.Select(a => (a.Name, a.Id, a.Key)), live.Select(a => (a.Name, a.Id, a.Key)));
        for (var i = 0; i < opened.Count; i++)
        {
            Assert.Equal(opened[i].Id, (await again.GetActorAsync(opened[i].Name)).Id);
            Assert.Equal(i, await again.BalanceAsync(opened[i]));
        }
    }

    private Task<InProcessCluster> StartNodeAsync() =>
        InProcessCluster.StartAsync(hocon: $"bank.registry.snapshot-every = {SnapshotEvery}", data: _data);

    /// <summary>Asks the node's snapshot store, as recovery would, for the registry's newest snapshot.</summary>
    private static async Task<long?> NewestRegistrySnapshotAsync(ActorSystem system)
    {
        var store = Persistence.Instance.Apply(system).SnapshotStoreFor(null);
        var result = await store.Ask<LoadSnapshotResult>(
            new LoadSnapshot(BankConstants.RegistryPersistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue),
            TimeSpan.FromSeconds(5));
        return result.Snapshot?.Metadata.SequenceNr;
    }

    public void Dispose() => _data.Dispose();
}
