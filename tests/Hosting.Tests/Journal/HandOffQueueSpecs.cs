using Bank.Hosting.Journal;
using Xunit;

namespace Bank.Hosting.Tests.Journal;

/// <summary>The queue in front of SQLite's writer and reader threads: in order, bounded, woken by an add, drained at the end.</summary>
public sealed class HandOffQueueSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void Items_come_out_in_the_order_they_went_in()
    {
        var queue = new HandOffQueue<int>();
        foreach (var i in Enumerable.Range(1, 5)) Assert.True(queue.TryAdd(i));

        Assert.True(queue.TryTake(out var first));
        queue.CompleteAdding();

        Assert.Equal([1, 2, 3, 4, 5], [first, .. queue.GetConsumingEnumerable()]);
    }

    [Fact]
    public void A_full_queue_refuses_the_next_item_and_takes_one_again_once_an_item_is_taken()
    {
        var queue = new HandOffQueue<string>(boundedCapacity: 2);
        Assert.True(queue.TryAdd("a"));
        Assert.True(queue.TryAdd("b"));

        Assert.False(queue.TryAdd("c"));
        Assert.True(queue.TryTake(out _));
        Assert.True(queue.TryAdd("c"));
    }

    [Fact]
    public void Nothing_is_added_once_adding_is_complete()
    {
        var queue = new HandOffQueue<int>();
        queue.CompleteAdding();

        Assert.Throws<InvalidOperationException>(() => queue.TryAdd(1));
        Assert.False(queue.TryTake(out _));
    }

    [Fact]
    public async Task A_consumer_waiting_on_an_empty_queue_is_woken_by_each_add_and_ends_after_the_last_item()
    {
        var queue = new HandOffQueue<int>();
        var taken = new List<int>();
        var firstTaken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = Task.Factory.StartNew(() =>
        {
            foreach (var item in queue.GetConsumingEnumerable())
            {
                lock (taken) taken.Add(item);
                firstTaken.TrySetResult();
            }
        }, TaskCreationOptions.LongRunning);

        // The consumer found the queue empty and sleeps until this add wakes it.
        Assert.True(queue.TryAdd(1));
        await firstTaken.Task.WaitAsync(Patience);
        Assert.True(queue.TryAdd(2));
        Assert.True(queue.TryAdd(3));
        queue.CompleteAdding();

        await consumer.WaitAsync(Patience);
        Assert.Equal([1, 2, 3], taken);
    }

    [Fact]
    public async Task Many_producers_lose_nothing()
    {
        var queue = new HandOffQueue<int>();
        var consumer = Task.Factory.StartNew(() => queue.GetConsumingEnumerable().ToList(), TaskCreationOptions.LongRunning);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(producer => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++) Assert.True(queue.TryAdd(producer * 10_000 + i));
        })));
        queue.CompleteAdding();

        var all = await consumer.WaitAsync(Patience);
        Assert.Equal(Enumerable.Range(0, 80_000), all.Order());
        // Each producer's own items keep their order.
        Assert.All(all.GroupBy(item => item / 10_000), items => Assert.Equal(items.Order(), items));
    }

    [Fact]
    public void A_capacity_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandOffQueue<int>(0));
    }
}
