using System.Diagnostics;
using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Gateway;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Client;

/// <summary>
/// How a <see cref="BankSession"/> reaches the cluster, in-process or through ClusterClient: each method is one request
/// to the node's gateway and its answer (one round trip), resent under the same request id on silence.
/// </summary>
public interface IBankGateway
{
    /// <summary>Names the owner of actors opened by a session, so they die with it.</summary>
    string OwnerFor(string session);

    /// <summary>
    /// Keeps the owner alive in the registry until disposed (heartbeats, where the owner needs them). A session asks for
    /// it when it first opens an actor it owns; the first heartbeat is sent before that open.
    /// </summary>
    IDisposable KeepAlive(string owner);

    /// <summary>
    /// Everything but account calls, to the cluster's services behind the gateway: the registry (open, get, kill, list,
    /// owners), transfers, history, inspection, the state store and fault injection.
    /// </summary>
    Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken = default);

    /// <summary>A call on one incarnation of an account; <see cref="ClientCallPolicy"/> says which calls a client may make.</summary>
    Task<object> CallAccountAsync(AccountRequest request, CancellationToken cancellationToken = default);

    /// <summary>A call on the account behind a name, which the node's gateway resolves inside the cluster.</summary>
    Task<object> CallAccountAsync(NamedAccountRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// How long a session resends a call (same id) on silence and on "try again" answers before it fails
    /// (<c>bank.client.retry-deadline</c>); see <see cref="BankSession"/>.
    /// </summary>
    TimeSpan RetryDeadline => DefaultRetryDeadline;

    /// <summary>The default of <c>bank.client.retry-deadline</c>.</summary>
    static readonly TimeSpan DefaultRetryDeadline = TimeSpan.FromSeconds(30);

    /// <summary><c>bank.client.retry-deadline</c> of <paramref name="system"/>.</summary>
    static TimeSpan RetryDeadlineOf(ActorSystem system) =>
        system.Settings.Config.GetTimeSpan("bank.client.retry-deadline", DefaultRetryDeadline);
}

/// <summary>
/// A gateway inside a node: registry requests and calls by incarnation go straight to the registry and the shard region;
/// calls by name and the requests the gateway answers itself go to this node's gateway, as a ClusterClient's do.
/// </summary>
public sealed class LocalGateway(ActorSystem system, IActorRef registry, IActorRef accounts, TimeSpan timeout) : IBankGateway
{
    // The account each recent request id of a call by incarnation went to, as the node's gateway keeps for the calls that
    // pass it (these go past it): the id again for another account is refused.
    private readonly RequestTargets _keyOf = new(10_000);

    private readonly InFlightCalls _calls = InFlightCalls.For(system);

    public string OwnerFor(string session) => Registry.NameRegistry.OwnerFor(system, session);

    public TimeSpan RetryDeadline { get; } = IBankGateway.RetryDeadlineOf(system);

    /// <summary>A session inside a node lives as long as the node: no heartbeats needed.</summary>
    public IDisposable KeepAlive(string owner) => Nothing.Instance;

    private sealed class Nothing : IDisposable
    {
        public static readonly Nothing Instance = new();

        public void Dispose()
        {
        }
    }

    // Calls that go past the node's gateway are counted here (BankMetrics.Calls); those through it, by the gateway.
    public Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken = default) =>
        request is IGatewayRequest
            // History, transfers and fault injection are the node's gateway's business, as for clients outside.
            ? ClientCallPolicy.IdRefusal(request) is { } refused ? Task.FromResult<object>(refused) : RequestAsync(NodeGateway, request, cancellationToken)
            : Counted(request, Stopwatch.GetTimestamp(), ClientCallPolicy.IdRefusal(request) is { } badId ? Task.FromResult<object>(badId)
                : RequestAsync(registry, request, cancellationToken, Patience.For(request, timeout, system)));

    /// <summary>Straight to the shard region, past the gateway's mailbox, under the same policy as the gateway's.</summary>
    public Task<object> CallAccountAsync(AccountRequest request, CancellationToken cancellationToken = default) =>
        Counted(request, Stopwatch.GetTimestamp(),
            ClientCallPolicy.Admit(request, out var refused) is not { } admitted ? Task.FromResult<object>(refused!)
            : ClientCallPolicy.ReusedElsewhere(_keyOf, admitted) is { } reused ? Task.FromResult<object>(reused)
            : CallAsync(admitted, cancellationToken));

    /// <summary>The answer, with the call counted by kind and outcome (the error's code when it fails).</summary>
    private static Task<object> Counted(object request, long started, Task<object> answer) =>
        BankMetrics.KindOf(request) is not { } kind ? answer : CountedAsync(kind, started, answer);

    private static async Task<object> CountedAsync(string kind, long started, Task<object> answer)
    {
        try
        {
            var answered = await answer;
            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(answered), started);
            return answered;
        }
        catch (BankException e)
        {
            BankMetrics.RecordCall(kind, e.Code, started);
            throw;
        }
    }

    /// <summary>Through this node's gateway, which resolves the name as it does for a client outside.</summary>
    public Task<object> CallAccountAsync(NamedAccountRequest request, CancellationToken cancellationToken = default) =>
        ShuttingDown() ?? AnsweredAsync(_calls.CallByNameAsync(NodeGateway, request, timeout, cancellationToken), timeout);

    private ActorSelection NodeGateway { get; } = system.ActorSelection(BankConstants.GatewayPath);

    private Task<object> RequestAsync(ICanTell target, object request, CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var wait = patience ?? timeout;
        return ShuttingDown() ?? AnsweredAsync(_calls.RequestAsync(target, request, wait, cancellationToken), wait);
    }

    /// <summary>An account call through this node's call table (<see cref="InFlightCalls"/>): no temporary actor per call.</summary>
    private Task<object> CallAsync(AccountRequest request, CancellationToken cancellationToken) =>
        ShuttingDown() ?? AnsweredAsync(_calls.CallAsync(accounts, request, timeout, cancellationToken), timeout);

    /// <summary>A node that is shutting down answers nothing more: the call fails now, unsent, rather than after the timeout.</summary>
    private Task<object>? ShuttingDown() => CoordinatedShutdown.Get(system).ShutdownReason is null ? null
        : Task.FromException<object>(new BankException(ErrorKind.ClusterUnreachable, "ShuttingDown", "the node is shutting down"));

    private static async Task<object> AnsweredAsync(Task<object> answer, TimeSpan wait)
    {
        try
        {
            return await answer;
        }
        catch (AskTimeoutException)
        {
            throw new BankException(ErrorKind.ClusterUnreachable, "Timeout",
                $"no answer from the cluster within {wait.TotalSeconds:0.#} s");
        }
    }
}
