using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Client;

/// <summary>How a <see cref="BankSession"/> reaches the registry and the accounts: in-process, or through ClusterClient.</summary>
public interface IBankGateway
{
    /// <summary>Names the owner of actors opened by a session, so they die with it.</summary>
    string OwnerFor(string session);

    /// <summary>Keeps the owner alive in the registry until disposed (heartbeats, where the owner needs them).</summary>
    IDisposable KeepAlive(string owner);

    /// <summary>Registry requests, and those the node's gateway answers itself (<see cref="IGatewayRequest"/>).</summary>
    Task<object> AskRegistryAsync(IBankMessage request, CancellationToken cancellationToken = default);

    Task<object> AskAccountAsync(AccountRequest request, CancellationToken cancellationToken = default);
}

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

/// <summary>A gateway inside a node: asks the local registry and shard region directly.</summary>
public sealed class LocalGateway(ActorSystem system, IActorRef registry, IActorRef accounts, TimeSpan timeout) : IBankGateway
{
    public string OwnerFor(string session) => Registry.NameRegistry.OwnerFor(system, session);

    /// <summary>A session inside a node lives as long as the node: no heartbeats needed.</summary>
    public IDisposable KeepAlive(string owner) => Nothing.Instance;

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }

    public Task<object> AskRegistryAsync(IBankMessage request, CancellationToken cancellationToken = default) =>
        request is IGatewayRequest
            // History, transfers and fault injection are the node's gateway's business, as for clients outside.
            ? AskAsync(system.ActorSelection(BankConstants.GatewayPath), request, cancellationToken)
            : AskAsync(registry, request, cancellationToken, Patience.For(request, timeout, system));

    /// <summary>Clients may only call an account; opening and closing incarnations is the registry's business.</summary>
    public Task<object> AskAccountAsync(AccountRequest request, CancellationToken cancellationToken = default) =>
        request.Command is Deposit or Withdraw or GetBalance
            ? AskAsync(accounts, request, cancellationToken)
            : throw new BankException(ErrorKind.Usage, nameof(ErrorKind.Usage),
                $"{request.Command.GetType().Name} goes through the registry, not straight to an account");

    private async Task<object> AskAsync(ICanTell target, object request, CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var wait = patience ?? timeout;
        // A node that is shutting down answers nothing more: say so now rather than after the timeout.
        if (CoordinatedShutdown.Get(system).ShutdownReason is not null)
            throw new BankException(ErrorKind.ClusterUnreachable, "ShuttingDown", "the node is shutting down");
        try
        {
            return target switch
            {
                IActorRef actor => await actor.Ask<object>(request, wait, cancellationToken),
                ActorSelection selection => await selection.Ask<object>(request, wait, cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(target)),
            };
        }
        catch (AskTimeoutException)
        {
            throw new BankException(ErrorKind.ClusterUnreachable, "Timeout",
                $"no answer from the cluster within {wait.TotalSeconds:0.#} s");
        }
    }
}
