using Akka.Actor;

namespace Bank.Hosting.Contracts;

/// <summary>How long a gateway waits for an answer.</summary>
internal static class Patience
{
    /// <summary>
    /// The client's ask timeout; an open of an actor that holds resources may wait PENDING_CREATION for a node up to
    /// <c>bank.resources.pending-timeout</c> on top of it.
    /// </summary>
    public static TimeSpan For(IBankMessage request, TimeSpan timeout, ActorSystem system) =>
        request is OpenActor { Resources: not null }
            ? timeout + system.Settings.Config.GetTimeSpan("bank.resources.pending-timeout", TimeSpan.FromSeconds(30))
            : timeout;
}
