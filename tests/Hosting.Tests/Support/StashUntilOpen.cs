using Akka.Actor;

namespace Bank.Hosting.Tests.Support;

/// <summary>A test actor that stashes until "open", then answers everything in the order it came: a mailbox's put-back path.</summary>
public sealed class StashUntilOpen : UntypedActor, IWithUnboundedStash
{
    private bool _open;

    public IStash Stash { get; set; } = null!;

    protected override void OnReceive(object message)
    {
        if (message is "open")
        {
            _open = true;
            Sender.Tell(message);
            Stash.UnstashAll();
            return;
        }

        if (_open) Sender.Tell(message);
        else Stash.Stash();
    }
}
