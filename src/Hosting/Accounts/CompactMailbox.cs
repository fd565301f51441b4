using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Accounts;

/// <summary>
/// The mailbox of an account's actors (its entity, its BackoffSupervisor, the account itself): a node holds three per
/// live account, and most of them are empty most of the time. Akka's unbounded mailboxes sit on a ConcurrentQueue,
/// which allocates a segment of 32 envelopes as it is made, paid by every idle account (docs/benchmarks.md). This one
/// keeps its envelopes in an array that grows with what waits in it and is dropped once the queue empties after a
/// burst; an empty queue holds no array at all. It supports stashing (EnqueueFirst), as persistent
/// actors and the entity's stash require. Every message it takes in is counted (<see cref="MailboxTraffic.AccountActors"/>) where a node counts (`bank bench`).
/// </summary>
public sealed class CompactMailbox(Settings settings, Config config)
    : MailboxType(settings, config), IProducesMessageQueue<CompactMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

/// <summary>
/// A double-ended queue of envelopes in a ring buffer, under a lock: enqueues come from any thread, dequeues from the
/// one running the actor, and each holds the lock for a few instructions.
/// </summary>
public sealed class CompactMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics, IUnboundedDequeBasedMessageQueueSemantics
{
    /// <summary>A buffer larger than this is let go when the queue empties; a smaller one is kept for the next burst.</summary>
    private const int KeptCapacity = 16;

    private Envelope[] _items = [];
    private int _head;
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        // Outside the lock: the count's one interlocked add does not lengthen the time others wait for it.
        if (MailboxTraffic.Counting) MailboxTraffic.AccountActors.Add();
        lock (this)
        {
            if (_count == _items.Length) Grow();
            _items[(_head + _count) % _items.Length] = envelope;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>
    /// Puts an envelope at the front (an unstashed message goes before those that arrived since); not counted again.
    /// </summary>
    public void EnqueueFirst(Envelope envelope)
    {
        lock (this)
        {
            if (_count == _items.Length) Grow();
            _head = (_head + _items.Length - 1) % _items.Length;
            _items[_head] = envelope;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (this)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }

            envelope = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            Volatile.Write(ref _count, _count - 1);
            if (_count == 0)
            {
                _head = 0;
                if (_items.Length > KeptCapacity) _items = [];
            }

            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }

    private void Grow()
    {
        var grown = new Envelope[Math.Max(4, _items.Length * 2)];
        for (var i = 0; i < _count; i++) grown[i] = _items[(_head + i) % _items.Length];
        _items = grown;
        _head = 0;
    }
}
