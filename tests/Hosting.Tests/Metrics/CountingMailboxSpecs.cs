using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch.MessageQueues;
using Akka.TestKit.Xunit2;
using Bank.Hosting.Accounts;
using Bank.Hosting.Metrics;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests.Metrics;

/// <summary>
/// `bank bench`'s counting mailbox: first in, first out; a stashed message put back goes first and is not counted
/// again; every message taken in is counted once, from any thread; what is left goes to dead letters.
/// </summary>
public sealed class CountingMessageQueueSpecs
{
    [Fact]
    public void Messages_come_out_in_the_order_they_went_in_and_each_is_counted_once()
    {
        var counter = new MessageCounter();
        var queue = new CountingMessageQueue(counter);
        for (var i = 0; i < 100; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));

        Assert.Equal((100, 100L), (queue.Count, counter.Count));
        for (var i = 0; i < 100; i++)
        {
            Assert.True(queue.TryDequeue(out var envelope));
            Assert.Equal(i, envelope.Message);
        }

        Assert.False(queue.HasMessages);
        Assert.False(queue.TryDequeue(out _));
        Assert.Equal(100L, counter.Count);
    }

    [Fact]
    public void A_message_put_back_comes_out_before_those_waiting_and_is_not_counted_again()
    {
        var counter = new MessageCounter();
        var queue = new CountingMessageQueue(counter);
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("c", ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope("a", ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope("first", ActorRefs.NoSender));

        Assert.True(queue.HasMessages);
        Assert.Equal(4, queue.Count);
        var order = new List<object>();
        while (queue.TryDequeue(out var envelope)) order.Add(envelope.Message);
        Assert.Equal(["first", "a", "b", "c"], order);
        Assert.Equal(2L, counter.Count);
    }

    [Fact]
    public async Task Enqueues_from_many_threads_are_each_dequeued_and_counted_once()
    {
        var counter = new MessageCounter();
        var queue = new CountingMessageQueue(counter);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 5000; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(t * 5000 + i, ActorRefs.NoSender));
        })));

        var seen = new HashSet<int>();
        while (queue.TryDequeue(out var envelope)) Assert.True(seen.Add((int)envelope.Message));
        Assert.Equal((40_000, 40_000L), (seen.Count, counter.Count));
    }

    [Fact]
    public void What_is_left_when_the_actor_stops_goes_to_dead_letters()
    {
        var queue = new CountingMessageQueue(new MessageCounter());
        queue.Enqueue(ActorRefs.Nobody, new Envelope(1, ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope(0, ActorRefs.NoSender));
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.Equal((0, 2), (queue.Count, deadLetters.Count));
    }

    [Fact]
    public void The_account_actors_mailbox_counts_each_message_it_takes_in()
    {
        // Process-wide, so other specs' accounts may add to it meanwhile: at least these. Counting starts with a node on
        // the counting mailbox (this file's other class has one); here it is started directly.
        MailboxTraffic.StartCounting();
        var before = MailboxTraffic.AccountActors.Count;
        var queue = new CompactMessageQueue();
        for (var i = 0; i < 1000; i++) queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));

        Assert.True(MailboxTraffic.AccountActors.Count - before >= 1000, "1,000 messages to an account actor's mailbox were not counted");
    }
}

/// <summary>
/// A node on <see cref="CountingMailbox.EveryActorHocon"/> (as `bank bench` runs one): every actor gets the counting
/// mailbox, those that stash too, and an actor whose props name a mailbox keeps it.
/// </summary>
public sealed class CountingMailboxSpecs() : TestKit(CountingConfig, "counting")
{
    private const string CompactPath = "counting-specs.compact";

    private static readonly Config CountingConfig = ConfigurationFactory.ParseString(
        CountingMailbox.EveryActorHocon + $"\n{CompactPath}.mailbox-type = \"{typeof(CompactMailbox).FullName}, {typeof(CompactMailbox).Assembly.GetName().Name}\"");

    [Fact]
    public void Every_actor_that_names_no_mailbox_runs_on_the_counting_one_and_one_that_names_its_own_keeps_it()
    {
        var plain = Sys.ActorOf(Props.Create(() => new Echo()), "plain");
        var account = Sys.ActorOf(Props.Create(() => new StashUntilOpen()).WithMailbox(CompactPath), "account");
        // Answered once started: a top-level actor has its cell, and its mailbox, from then on.
        plain.Tell("ping", TestActor);
        account.Tell("open", TestActor);
        Assert.Equal(["open", "ping"], new[] { ExpectMsg<string>(), ExpectMsg<string>() }.Order());

        Assert.IsType<CountingMessageQueue>(QueueOf(plain));
        Assert.IsType<CompactMessageQueue>(QueueOf(account));
    }

    [Fact]
    public void An_actor_that_stashes_gets_the_counting_mailbox_and_unstashes_in_order()
    {
        var before = MailboxTraffic.OtherActors.Count;
        var stasher = Sys.ActorOf(Props.Create(() => new StashUntilOpen()), "stasher");

        foreach (var message in new[] { "a", "b", "c", "open" }) stasher.Tell(message, TestActor);

        Assert.Equal(["open", "a", "b", "c"], new[] { ExpectMsg<string>(), ExpectMsg<string>(), ExpectMsg<string>(), ExpectMsg<string>() });
        Assert.IsType<CountingMessageQueue>(QueueOf(stasher));
        // The stasher's four at least: the system's own actors count too.
        Assert.True(MailboxTraffic.OtherActors.Count - before >= 4, "messages to actors on the counting mailbox were not counted");
    }

    private static object QueueOf(IActorRef actor) => ((ActorCell)((ActorRefWithCell)actor).Underlying).Mailbox!.MessageQueue;

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }
}
