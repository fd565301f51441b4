using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Bank.Hosting.Accounts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// The account actors' mailbox: first in, first out; a stashed message put back goes first; it grows and wraps as
/// messages wait, takes enqueues from many threads, and gives what is left to dead letters when its actor stops.
/// </summary>
public sealed class CompactMessageQueueSpecs
{
    [Fact]
    public void Messages_come_out_in_the_order_they_went_in_across_growth_and_wrap_around()
    {
        var queue = new CompactMessageQueue();
        var expected = 0;
        var next = 0;
        // Interleaved so that the ring buffer wraps before it grows.
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < 3 + round % 7; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(next++, ActorRefs.NoSender));
            for (var i = 0; i < 2; i++)
            {
                Assert.True(queue.TryDequeue(out var envelope));
                Assert.Equal(expected++, envelope.Message);
            }
        }

        Assert.Equal(next - expected, queue.Count);
        while (queue.TryDequeue(out var envelope)) Assert.Equal(expected++, envelope.Message);
        Assert.Equal(next, expected);
        Assert.False(queue.HasMessages);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void A_message_enqueued_first_comes_out_before_those_waiting()
    {
        var queue = new CompactMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("c", ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope("a", ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope("first", ActorRefs.NoSender));

        var order = new List<object>();
        while (queue.TryDequeue(out var envelope)) order.Add(envelope.Message);
        Assert.Equal(["first", "a", "b", "c"], order);
    }

    [Fact]
    public async Task Enqueues_from_many_threads_are_each_dequeued_once()
    {
        var queue = new CompactMessageQueue();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 5000; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(t * 5000 + i, ActorRefs.NoSender));
        })));

        var seen = new HashSet<int>();
        while (queue.TryDequeue(out var envelope)) Assert.True(seen.Add((int)envelope.Message));
        Assert.Equal(40_000, seen.Count);
    }

    [Fact]
    public void What_is_left_when_the_actor_stops_goes_to_dead_letters()
    {
        var queue = new CompactMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope(1, ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope(2, ActorRefs.NoSender));
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.Equal(0, queue.Count);
        Assert.Equal(2, deadLetters.Count);
    }
}

/// <summary>In a node the account actors run on the compact mailbox, which supports their stash.</summary>
public class CompactMailboxSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public void An_actor_on_the_accounts_mailbox_stashes_and_unstashes_in_order()
    {
        var settings = AccountSettings.From(Sys);
        Assert.Equal(AccountSettings.MailboxPath, settings.Mailbox);
        var stasher = Sys.ActorOf(settings.WithMailbox(Props.Create(() => new StashUntilOpen())));

        foreach (var message in new[] { "a", "b", "c", "open" }) stasher.Tell(message, TestActor);

        Assert.Equal("open", ExpectMsg<string>());
        Assert.Equal("a", ExpectMsg<string>());
        Assert.Equal("b", ExpectMsg<string>());
        Assert.Equal("c", ExpectMsg<string>());
    }
}
