namespace Bank.Hosting.Journal;

/// <summary>
/// The queue in front of one of SQLite's threads (the group commit's writer, the recovery reader): any thread adds,
/// that one thread takes. Where <c>BlockingCollection</c> spins before it sleeps, this consumer sleeps at once: on two
/// cores a fifth of the samples of a run of opens was those two threads spinning between requests (docs/benchmarks.md,
/// "Where the time goes, sampled").
/// </summary>
public sealed class HandOffQueue<T>(int boundedCapacity = int.MaxValue)
{
    private readonly Queue<T> _items = new();
    private bool _completed;
    private bool _consumerWaiting;

    /// <summary>The most items it holds; <see cref="TryAdd"/> refuses more.</summary>
    public int BoundedCapacity { get; } = boundedCapacity > 0
        ? boundedCapacity
        : throw new ArgumentOutOfRangeException(nameof(boundedCapacity), boundedCapacity, "must be positive");

    /// <summary>Adds the item unless the queue is full; throws <see cref="InvalidOperationException"/> once adding is complete.</summary>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            if (_completed) throw new InvalidOperationException("the queue takes no more items");
            if (_items.Count >= BoundedCapacity) return false;
            _items.Enqueue(item);
            // Only a sleeping consumer needs the wake-up; one that is busy takes the item on its next turn.
            if (_consumerWaiting) Monitor.Pulse(_items);
            return true;
        }
    }

    /// <summary>Takes the oldest item if there is one, without waiting.</summary>
    public bool TryTake(out T item)
    {
        lock (_items) return _items.TryDequeue(out item!);
    }

    /// <summary>No more items: the consumer still takes those queued, then its enumeration ends.</summary>
    public void CompleteAdding()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>The items in order, waiting (asleep, not spinning) while there is none; ends once adding is complete and none is left.</summary>
    public IEnumerable<T> GetConsumingEnumerable()
    {
        while (true)
        {
            T item;
            lock (_items)
            {
                while (_items.Count == 0 && !_completed)
                {
                    _consumerWaiting = true;
                    Monitor.Wait(_items);
                    _consumerWaiting = false;
                }

                if (!_items.TryDequeue(out item!)) yield break;
            }

            yield return item;
        }
    }
}
