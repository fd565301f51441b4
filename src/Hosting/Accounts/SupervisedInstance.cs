using Akka.Actor;
using Akka.Pattern;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Accounts;

/// <summary>
/// The instance of an account: Akka's BackoffSupervisor over an <see cref="AccountActor"/>, which restarts it on failure
/// after an exponential, jittered backoff. Started by the account's <see cref="AccountSupervisor"/>, or on the node the
/// account is placed on by its <see cref="PlacedInstances"/>.
/// </summary>
public static class SupervisedInstance
{
    /// <summary>An instance that reports to <paramref name="supervisor"/>: its strategy tells the supervisor of every crash.</summary>
    public static Props PropsFor(string key, AccountSettings settings, IActorRef supervisor)
    {
        var options = Backoff.OnFailure(
                AccountActor.PropsFor(key, settings, supervisor), "account",
                settings.MinBackoff, settings.MaxBackoff, settings.RandomFactor, maxNrOfRetries: -1)
            .WithSupervisorStrategy(new OneForOneStrategy(-1, -1, cause =>
            {
                // Runs in the BackoffSupervisor; telling is safe from anywhere and keeps the order of this instance's start.
                supervisor.Tell(new AccountCrashed($"{cause.GetType().Name}: {cause.Message}", cause is InjectedCrash));
                return Directive.Restart;
            }, loggingEnabled: false));
        return settings.WithMailbox(BackoffSupervisor.Props(options));
    }
}
