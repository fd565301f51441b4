using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Dashboard;

/// <summary>
/// Persisted account operations per second, counted once a second from the journal's global order (all nodes write
/// to it), over the last two minutes.
/// </summary>
internal sealed class OperationsCounter(ActorSystem system) : IAsyncDisposable
{
    private const int Kept = 120;
    private readonly CancellationTokenSource _stop = new();
    private readonly Queue<(DateTimeOffset At, int Count)> _samples = new();
    private Task _loop = Task.CompletedTask;

    public IReadOnlyList<(DateTimeOffset At, int Count)> Samples
    {
        get
        {
            lock (_samples) return [.. _samples];
        }
    }

    public void Start() => _loop = RunAsync(_stop.Token);

    private async Task RunAsync(CancellationToken ct)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        // The system's default materializer, shared with the rest of the node: disposing it would stop every stream of the node.
        var materializer = system.Materializer();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            // The events written before the dashboard started are not operations of its chart.
            var (offset, _) = await CountSinceAsync(journal, materializer, 0, ct);
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    var (next, count) = await CountSinceAsync(journal, materializer, offset, ct);
                    offset = next;
                    lock (_samples)
                    {
                        _samples.Enqueue((DateTimeOffset.UtcNow, count));
                        while (_samples.Count > Kept) _samples.Dequeue();
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A journal that does not answer for a second leaves a gap in the chart, nothing worse.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    private static async Task<(long Offset, int Count)> CountSinceAsync(SqlReadJournal journal, IMaterializer materializer, long offset, CancellationToken ct)
    {
        var (last, count) = await journal.CurrentAllEvents(Offset.Sequence(offset))
            .RunAggregate((Offset: offset, Count: 0), (acc, e) => (
                e.Offset is Sequence s ? Math.Max(acc.Offset, s.Value) : acc.Offset,
                acc.Count + (e.PersistenceId.StartsWith(BankConstants.AccountPersistenceIdPrefix, StringComparison.Ordinal) ? 1 : 0)), materializer)
            .WaitAsync(ct);
        return (last, count);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
