using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Contracts;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank bench --recovery N`: how long an account with N events takes to recover, from its newest snapshot and
/// from the events alone. The journal is seeded with the account's real events (decided and applied by the domain,
/// journaled a thousand at a time), then a fresh account instance is started and asked a question it can only answer
/// once it has recovered. On SQLite it then times the stages of a recovery without a snapshot apart
/// (<see cref="RecoveryStages"/>).
/// </summary>
public static class RecoveryBench
{
    public sealed record Figures(
        int Events, double[] WithSnapshotMs, long SnapshotAt, int ReplayedAfterSnapshot, double[] WithoutSnapshotMs, RecoveryStages.Figures? Stages);

    /// <param name="sqliteConnectionString">The node's SQLite journal, for the stage table; null on PostgreSQL (no table).</param>
    public static async Task<Figures> RunAsync(ActorSystem system, int events, string? sqliteConnectionString, CancellationToken cancellationToken)
    {
        var key = "recovery-" + Guid.NewGuid().ToString("N")[..8];
        var persistenceId = AccountActor.PersistenceIdFor(key);

        // Seed: the account's own events, with a snapshot 99 events before the end, as late as an account that snapshots
        // every 100 events may have taken its newest one: recovery replays those 99.
        var seeder = system.ActorOf(Props.Create(() => new Seeder(persistenceId)));
        var state = AccountState.Empty;
        var batch = new List<IAccountEvent>();
        var snapshotAt = Math.Max(1, events - 99);
        long written = 0;
        foreach (var e in state.Decide(new OpenAccount(0m, 0m, Guid.NewGuid().ToString("N"))).Events) await AddAsync(e);
        for (var i = 1; written < events; i++)
            foreach (var e in state.Decide(new Deposit(1m, $"r{i}")).Events)
                if (written < events) await AddAsync(e);

        var withSnapshot = new double[5];
        var replayed = 0;
        for (var run = 0; run < withSnapshot.Length; run++)
            (withSnapshot[run], replayed) = await RecoverAsync(system, key, cancellationToken);

        await seeder.Ask<Done>(new DropSnapshots(), TimeSpan.FromMinutes(1), cancellationToken);
        var withoutSnapshot = new double[3];
        for (var run = 0; run < withoutSnapshot.Length; run++)
            (withoutSnapshot[run], _) = await RecoverAsync(system, key, cancellationToken);
        await seeder.GracefulStop(TimeSpan.FromSeconds(10));
        var stages = sqliteConnectionString is null ? null
            : await RecoveryStages.MeasureAsync(system, persistenceId, sqliteConnectionString, cancellationToken);
        return new Figures(events, withSnapshot, snapshotAt, replayed, withoutSnapshot, stages);

        async Task AddAsync(IAccountEvent e)
        {
            state = state.Apply(e);
            batch.Add(e);
            written++;
            if (batch.Count < 1000 && written != snapshotAt && written != events) return;
            await seeder.Ask<Done>(new Seed([.. batch]), TimeSpan.FromMinutes(1), cancellationToken);
            batch.Clear();
            if (written == snapshotAt) await seeder.Ask<Done>(new Snapshot(state), TimeSpan.FromMinutes(1), cancellationToken);
        }
    }

    private static async Task<(double Ms, int Replayed)> RecoverAsync(ActorSystem system, string key, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var account = system.ActorOf(AccountActor.PropsFor(key, AccountSettings.From(system)));
        var info = await account.Ask<AccountRecoveryInfo>(new AccountProbe(key), TimeSpan.FromMinutes(2), cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await account.GracefulStop(TimeSpan.FromSeconds(10));
        return (elapsed, info.EventsReplayed);
    }

    private sealed record Seed(IAccountEvent[] Events);

    private sealed record Snapshot(AccountState State);

    private sealed record DropSnapshots;

    /// <summary>Writes the account's events under its persistence id, as the account would, only many per round trip.</summary>
    private sealed class Seeder : ReceivePersistentActor
    {
        private IActorRef? _replyTo;

        public Seeder(string persistenceId)
        {
            PersistenceId = persistenceId;
            Command<Seed>(seed =>
            {
                var sender = Sender;
                var left = seed.Events.Length;
                PersistAll(seed.Events, _ =>
                {
                    if (--left == 0) sender.Tell(Done.Instance);
                });
            });
            Command<Snapshot>(snapshot =>
            {
                _replyTo = Sender;
                SaveSnapshot(snapshot.State);
            });
            Command<SaveSnapshotSuccess>(_ => _replyTo?.Tell(Done.Instance));
            Command<SaveSnapshotFailure>(failure => _replyTo?.Tell(new Status.Failure(failure.Cause)));
            Command<DropSnapshots>(_ =>
            {
                _replyTo = Sender;
                DeleteSnapshots(SnapshotSelectionCriteria.Latest);
            });
            Command<DeleteSnapshotsSuccess>(_ => _replyTo?.Tell(Done.Instance));
            Command<DeleteSnapshotsFailure>(failure => _replyTo?.Tell(new Status.Failure(failure.Cause)));
        }

        public override string PersistenceId { get; }
    }
}
