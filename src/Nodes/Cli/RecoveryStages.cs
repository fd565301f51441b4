using System.Diagnostics;
using Akka.Actor;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Journal;

namespace Bank.Nodes.Cli;

/// <summary>
/// The stages of a recovery without a snapshot, each timed apart on the same events (SQLite only): reading the rows,
/// deserializing them, delivering them (one <see cref="ReplayedMessage"/> per event into the mailbox of an actor that
/// only counts), the journal's whole replay into such an actor (the three together), and the account's fold of the
/// events, as recovery folds them and, for comparison, one by one. Timed one after another: in a recovery the journal reads ahead while it
/// delivers, so the stages overlap and their sum exceeds the whole.
/// </summary>
public static class RecoveryStages
{
    /// <summary>Medians of <see cref="Runs"/> runs, in milliseconds.</summary>
    public sealed record Figures(double ReadMs, double DeserializeMs, double DeliverMs, double JournalReplayMs, double ApplyMs, double ApplyOneByOneMs);

    private const int Runs = 3;

    /// <summary>Rows per read, as the journal's replay reads them.</summary>
    private const int Batch = 1000;

    public static async Task<Figures> MeasureAsync(ActorSystem system, string persistenceId, string sqliteConnectionString, CancellationToken cancellationToken)
    {
        var extended = (ExtendedActorSystem)system;
        var table = GroupCommitSqlJournal.TableNames(system.Settings.Config);
        var start = AccountState.Empty with { Retention = AccountSettings.From(system).Retention };
        using var reader = new SqliteRecoveryReader(sqliteConnectionString);
        List<StoredEvent> rows = [];
        List<IAccountEvent> events = [];

        var read = await TimeAsync(async () => rows = await ReadAllAsync(reader, table, persistenceId));
        var deserialize = await TimeAsync(() =>
        {
            events = [.. rows.Select(row => (IAccountEvent)StoredPayload.Read(extended, row.Payload, row.SerializerId, row.Manifest, null))];
            return Task.CompletedTask;
        });
        var deliver = await TimeAsync(() => DeliverToCounterAsync(system, persistenceId, events, cancellationToken));
        var journalReplay = await TimeAsync(() => ReplayToCounterAsync(system, persistenceId, events.Count, cancellationToken));
        var apply = await TimeAsync(() =>
        {
            var replay = new AccountReplay(start);
            foreach (var evt in events) replay.Apply(evt);
            _ = replay.ToState();
            return Task.CompletedTask;
        });
        var oneByOne = await TimeAsync(() =>
        {
            _ = start.ApplyAll(events);
            return Task.CompletedTask;
        }, runs: 1);
        return new Figures(read, deserialize, deliver, journalReplay, apply, oneByOne);
    }

    private static async Task<double> TimeAsync(Func<Task> stage, int runs = Runs)
    {
        var ms = new double[runs];
        for (var run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            await stage();
            ms[run] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return ms.Order().ElementAt(runs / 2);
    }

    private static async Task<List<StoredEvent>> ReadAllAsync(SqliteRecoveryReader reader, JournalTableNames table, string persistenceId)
    {
        var rows = new List<StoredEvent>();
        for (long from = 1; ;)
        {
            var batch = await reader.Events(table, persistenceId, from, long.MaxValue, Batch);
            rows.AddRange(batch);
            if (batch.Count < Batch) return rows;
            from = batch[^1].SequenceNr + 1;
        }
    }

    /// <summary>The journal's replay protocol, as a recovering actor gets it, into an actor that counts the events.</summary>
    private static Task ReplayToCounterAsync(ActorSystem system, string persistenceId, int expected, CancellationToken cancellationToken) =>
        CountAsync(system, expected, counter => Persistence.Instance.Apply(system).JournalFor(null)
            .Tell(new ReplayMessages(1, long.MaxValue, long.MaxValue, persistenceId, counter), counter), cancellationToken);

    /// <summary>Deserialized events delivered as the journal delivers them, one <see cref="ReplayedMessage"/> each.</summary>
    private static Task DeliverToCounterAsync(ActorSystem system, string persistenceId, List<IAccountEvent> events, CancellationToken cancellationToken) =>
        CountAsync(system, events.Count, counter =>
        {
            for (var i = 0; i < events.Count; i++)
                counter.Tell(new ReplayedMessage(new Persistent(events[i], i + 1, persistenceId)), ActorRefs.NoSender);
            counter.Tell(new RecoverySuccess(events.Count), ActorRefs.NoSender);
        }, cancellationToken);

    private static async Task CountAsync(ActorSystem system, int expected, Action<IActorRef> deliver, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var counter = system.ActorOf(Props.Create(() => new ReplayCounter(done)));
        try
        {
            deliver(counter);
            var replayed = await done.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
            if (replayed != expected) throw new InvalidOperationException($"{replayed} events were replayed, not {expected}");
        }
        finally
        {
            system.Stop(counter);
        }
    }

    private sealed class ReplayCounter(TaskCompletionSource<int> done) : UntypedActor
    {
        private int _count;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case ReplayedMessage:
                    _count++;
                    break;
                case RecoverySuccess:
                    done.TrySetResult(_count);
                    break;
                case ReplayMessagesFailure failure:
                    done.TrySetException(failure.Cause);
                    break;
            }
        }
    }
}
