using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;

namespace Bank.Hosting.Client;

/// <summary>
/// Sends requests through ClusterClient to the gateway on some node. On silence it resends the same message (same
/// request id) up to <c>bank.client.attempts</c> times before the call fails with ClusterUnreachable.
/// </summary>
public sealed class ClusterClientGateway : IBankGateway
{
    private readonly ActorSystem _system;
    private readonly IActorRef _clusterClient;
    private readonly string _where;
    private readonly TimeSpan _timeout;
    private readonly int _attempts;
    private readonly TimeSpan _heartbeatInterval;
    private readonly IActorRef _calls;
    private readonly Task<BankException> _broken;
    private long _nextCallId;

    /// <param name="broken">Completes when the client cannot reach the cluster at all (e.g. refused for TLS): every call fails with it.</param>
    public ClusterClientGateway(ActorSystem system, IActorRef clusterClient, string where, Task<BankException>? broken = null)
    {
        _broken = broken ?? new TaskCompletionSource<BankException>().Task;
        _system = system;
        _clusterClient = clusterClient;
        _where = where;
        var config = system.Settings.Config;
        _timeout = config.GetTimeSpan("bank.client.ask-timeout", TimeSpan.FromSeconds(15));
        _attempts = Math.Max(1, config.GetInt("bank.client.attempts", 3));
        _heartbeatInterval = config.GetTimeSpan("bank.client.heartbeat-interval", TimeSpan.FromSeconds(2));
        _calls = system.ActorOf(Props.Create(() => new CallCorrelator(clusterClient)), "calls");
    }

    public string OwnerFor(string session) => NameRegistry.ClientOwner(session);

    public TimeSpan RetryDeadline => IBankGateway.RetryDeadlineOf(_system);

    public IDisposable KeepAlive(string owner)
    {
        var beat = new ClusterClient.Send(BankConstants.GatewayPath, new OwnerHeartbeat(owner));
        // The first one now, ahead of the open that needs it: the registry hears of the owner before its first actor.
        _clusterClient.Tell(beat, ActorRefs.NoSender);
        return new CancelOnDispose(_system.Scheduler.ScheduleTellRepeatedlyCancelable(
            _heartbeatInterval, _heartbeatInterval, _clusterClient, beat, ActorRefs.NoSender));
    }

    public Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken = default) =>
        SendAsync(request, cancellationToken);

    public Task<object> CallAccountAsync(AccountRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(request, cancellationToken);

    public Task<object> CallAccountAsync(NamedAccountRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(request, cancellationToken);

    /// <summary>An account call, by incarnation or by name, through the one <see cref="CallCorrelator"/> of this client.</summary>
    private async Task<object> CallAsync(IBankMessage request, CancellationToken cancellationToken)
    {
        var timeout = Patience.For(request, _timeout, _system);
        var perAttempt = TimeSpan.FromTicks(timeout.Ticks / _attempts);
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            var id = Interlocked.Increment(ref _nextCallId);
            var answer = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Tell(new CallCorrelator.Call(id, Correlated(id, request), answer));
            try
            {
                return await OrBroken(answer.Task.WaitAsync(perAttempt, cancellationToken));
            }
            catch (TimeoutException)
            {
                // Silence: the call or its answer may be lost. The same request goes again; its id makes it safe.
                _calls.Tell(new CallCorrelator.Forget(id));
            }
            catch (OperationCanceledException)
            {
                _calls.Tell(new CallCorrelator.Forget(id));
                throw;
            }
        }

        throw new BankException(ErrorKind.ClusterUnreachable, "Timeout",
            $"no answer from the cluster at {_where} within {timeout.TotalSeconds:0.#} s");
    }

    /// <summary>The call under its correlation id (no closure per call: this is the hot path of `bank bench --address`).</summary>
    private static IBankMessage Correlated(long id, IBankMessage call) => call switch
    {
        AccountRequest byIncarnation => new CorrelatedAccountRequest(id, byIncarnation),
        NamedAccountRequest byName => new CorrelatedNamedAccountRequest(id, byName),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call.GetType().Name, "not an account call"),
    };

    private async Task<object> SendAsync(IBankMessage request, CancellationToken cancellationToken)
    {
        var timeout = Patience.For(request, _timeout, _system);
        var perAttempt = TimeSpan.FromTicks(timeout.Ticks / _attempts);
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            try
            {
                // Local affinity: the gateway on the node this client is connected to, never a random (maybe dead) one.
                return await OrBroken(_clusterClient.Ask<object>(
                    new ClusterClient.Send(BankConstants.GatewayPath, request, localAffinity: true), perAttempt, cancellationToken));
            }
            catch (AskTimeoutException) when (attempt < _attempts)
            {
                // Silence: the request or its answer may be lost. The same message goes again; its id makes it safe.
            }
            catch (AskTimeoutException)
            {
                break;
            }
        }

        throw new BankException(ErrorKind.ClusterUnreachable, "Timeout",
            $"no answer from the cluster at {_where} within {timeout.TotalSeconds:0.#} s");
    }

    /// <summary>The answer, unless the connection broke first: then its reason, at once.</summary>
    private async Task<object> OrBroken(Task<object> answer)
    {
        if (await Task.WhenAny(answer, _broken) == _broken) throw await _broken;
        return await answer;
    }

    /// <summary>
    /// The one sender of a client's account calls: it matches answers to calls by their correlation ids, so the cluster
    /// sees one client, not one temporary actor per call.
    /// </summary>
    private sealed class CallCorrelator : ReceiveActor
    {
        private readonly Dictionary<long, Call> _waiting = [];

        public CallCorrelator(IActorRef clusterClient)
        {
            Receive<Call>(call =>
            {
                _waiting[call.Id] = call;
                clusterClient.Tell(new ClusterClient.Send(BankConstants.GatewayPath, call.Message, localAffinity: true));
            });
            Receive<CorrelatedAccountReply>(answer =>
            {
                if (_waiting.Remove(answer.Id, out var waiting))
                    waiting.Answer.TrySetResult((object?)answer.Reply ?? answer.Rejected!);
            });
            Receive<Forget>(forget => _waiting.Remove(forget.Id));
            // The connection to a node dropped: the calls in flight (and their answers) may be lost with it. They go again
            // now, same ids, by the next node, not after their timeout. On the link's word that it has moved (ClusterLink,
            // DoorClient), not on the dropped connection itself, which this actor might hear before the link does.
            Receive<ClusterLink.LinkMoved>(_ =>
            {
                if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null) return;
                foreach (var call in _waiting.Values)
                    clusterClient.Tell(new ClusterClient.Send(BankConstants.GatewayPath, call.Message, localAffinity: true));
            });
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ClusterLink.LinkMoved));

        protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

        /// <summary>A call under its correlation id (<paramref name="Message"/> carries it), and where its answer goes.</summary>
        public sealed record Call(long Id, IBankMessage Message, TaskCompletionSource<object> Answer);

        public sealed record Forget(long Id);
    }

    private sealed class CancelOnDispose(ICancelable cancelable) : IDisposable
    {
        public void Dispose() => cancelable.Cancel();
    }
}
