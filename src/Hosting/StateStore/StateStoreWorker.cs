using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.StateStore;

/// <summary>
/// A persistence worker: writes batches of account rows into the state store. It holds no state of its own (the store
/// and the feeder's offset hold it), so a crashed worker is simply restarted by its pool, and the batch it was
/// writing is sent again, to another worker, by the feeder.
/// </summary>
public sealed class StateStoreWorker : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    // Resolved at the first batch: a worker deployed here early, while the node still starts, finds the database set by then.
    private AccountStateStore? _store;
    private readonly string _name = $"{Cluster.Get(Context.System).SelfAddress}/{Context.Self.Path.Name}";
    private bool _crashOnNextBatch;

    public StateStoreWorker()
    {
        Receive<StoreBatch>(Store);
        Receive<CrashOnNextBatch>(_ => _crashOnNextBatch = true);
    }

    private void Store(StoreBatch batch)
    {
        if (_crashOnNextBatch)
        {
            _crashOnNextBatch = false;
            throw new InvalidOperationException($"persistence worker {_name} crashed on batch {batch.Id} (injected)");
        }

        if (batch.Rows.FirstOrDefault(r => string.IsNullOrEmpty(r.Key) || r.Version < 0) is { } bad)
        {
            Sender.Tell(new BatchRefused(batch.Id, _name, $"row '{bad.Key}' at version {bad.Version} is not an account update"));
            return;
        }

        var name = _name;
        var log = _log;
        _store ??= new AccountStateStore(BankDatabase.For(Context.System).Options);
        _store.WriteAsync(batch.Rows).PipeTo(Sender,
            success: () => new BatchStored(batch.Id, name, batch.Rows.Count),
            failure: e =>
            {
                // The database refused for now (busy, unreachable): a system failure, which the feeder retries.
                log.Warning("Persistence worker {Worker} could not write batch {Batch}: {Reason}", name, batch.Id, e.Message);
                return new Status.Failure(e);
            });
    }
}
