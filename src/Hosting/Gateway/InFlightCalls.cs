using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The calls this node has sent into the cluster (its gateway's, its embedded sessions', its registry's and its transfer
/// sagas' account calls) and not yet seen answered, one table per node.
/// <para>
/// An account call goes out as a <see cref="TrackedAccountRequest"/> from the node's one reply address, and the account's
/// entity answers it there under the same id (<see cref="CorrelatedAccountReply"/>): no temporary actor, no timer and no
/// temp-path registration per call, as Akka's <c>Ask</c> would make. One sweep a tenth of a second fails the calls whose
/// time is up, with <see cref="AskTimeoutException"/> as an ask would.
/// </para>
/// <para>
/// A call that went to a node that then died is lost with it; when that node is removed, the gateway has
/// <see cref="ResendAll"/> send every call still waiting again, under its own id, so that it reaches the account's new home
/// at once instead of waiting out its timeout. Only calls that are safe to send twice are sent again
/// (<see cref="SafeToResend"/>): reads, and writes under a request or transfer id, applied once.
/// </para>
/// </summary>
public sealed class InFlightCalls : IExtension
{
    /// <summary>How often calls are checked for their deadlines: timeouts are seconds long, so they end at most this late.</summary>
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<long, WaitingCall> _accountCalls = new();
    private readonly ConcurrentDictionary<long, AskedCall> _askedCalls = new();
    private readonly ReplyAddress _replyAddress;
    private long _next;

    public InFlightCalls(ExtendedActorSystem system)
    {
        var provider = system.Provider;
        _replyAddress = new ReplyAddress(provider, provider.TempPath(), this);
        // A temp actor's path resolves on this node, so an entity on another node answers it over the wire.
        provider.RegisterTempActor(_replyAddress, _replyAddress.Path);
        system.Scheduler.Advanced.ScheduleRepeatedly(SweepEvery, SweepEvery, Sweep);
        // The scheduler stops with the system: nothing will answer what is still waiting, so it fails now.
        system.RegisterOnTermination(() => Expire(all: true));
    }

    /// <summary>This node's table.</summary>
    public static InFlightCalls For(ActorSystem system) => system.WithExtension<InFlightCalls, InFlightCallsProvider>();

    /// <summary>How many calls are waiting for their answers now.</summary>
    public int Count => _accountCalls.Count + _askedCalls.Count;

    /// <summary>
    /// Calls the account <paramref name="request"/> names through <paramref name="accounts"/> (its shard region): the
    /// account's <see cref="AccountReply"/> or <see cref="Rejected"/>; <see cref="AskTimeoutException"/> after
    /// <paramref name="timeout"/> without an answer.
    /// </summary>
    public Task<object> CallAsync(IActorRef accounts, AccountRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _next);
        return Send(new WaitingCall(accounts, new TrackedAccountRequest(id, request), SafeToResend(request), id, DeadlineAfter(timeout), timeout),
            cancellationToken);
    }

    /// <summary>
    /// A call on the account behind a name, through this node's <paramref name="gateway"/>, which resolves the name and
    /// answers under the call's id (<see cref="CorrelatedNamedAccountRequest"/>), as it does for a ClusterClient.
    /// </summary>
    public Task<object> CallByNameAsync(ICanTell gateway, NamedAccountRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _next);
        // The gateway is on this node and resends its own calls into the cluster: never sent again from here.
        return Send(new WaitingCall(gateway, new CorrelatedNamedAccountRequest(id, request), false, id, DeadlineAfter(timeout), timeout),
            cancellationToken);
    }

    private Task<object> Send(WaitingCall call, CancellationToken cancellationToken)
    {
        var id = call.Id;
        _accountCalls[id] = call;
        if (cancellationToken.CanBeCanceled)
            call.Cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (calls, id) = ((InFlightCalls, long))state!;
                if (calls._accountCalls.TryRemove(id, out var cancelled)) cancelled.TrySetCanceled(token);
            }, (this, id));
        call.Target.Tell(call.Message, _replyAddress);
        return call.Task;
    }

    /// <summary>
    /// Asks <paramref name="target"/> (not an account: the registry, the transfers); while no answer has come, a call that
    /// is safe to send twice can be sent again by <see cref="ResendAll"/>.
    /// </summary>
    public async Task<object> AskAsync(IActorRef target, object message, TimeSpan timeout)
    {
        if (!SafeToResend(message)) return await target.Ask<object>(message, timeout);
        var id = Interlocked.Increment(ref _next);
        try
        {
            return await target.Ask<object>(replyTo =>
            {
                _askedCalls[id] = new AskedCall(target, message, replyTo);
                return message;
            }, timeout, CancellationToken.None);
        }
        finally
        {
            _askedCalls.TryRemove(id, out _);
        }
    }

    /// <summary>Sends every call still waiting that is safe to send twice again (the first answer wins); returns how many.</summary>
    public int ResendAll()
    {
        var sent = 0;
        foreach (var call in _accountCalls.Values)
        {
            if (!call.Resend) continue;
            call.Target.Tell(call.Message, _replyAddress);
            sent++;
        }

        foreach (var call in _askedCalls.Values)
        {
            call.Target.Tell(call.Message, call.ReplyTo);
            sent++;
        }

        return sent;
    }

    /// <summary>A call whose second delivery changes nothing the first did not: a read, or a write under its id.</summary>
    public static bool SafeToResend(object message) => message switch
    {
        AccountRequest { Command: GetBalance } => true,
        AccountRequest { Command: Deposit { RequestId: not null } } => true,
        AccountRequest { Command: Withdraw { RequestId: not null } } => true,
        AccountRequest { Command: Refund or FindApplied } => true,
        TransferMoney => true,
        _ => false,
    };

    private void Answered(CorrelatedAccountReply reply)
    {
        // An answer to a call already answered (a resend's) or timed out finds nothing here.
        if (!_accountCalls.TryRemove(reply.Id, out var call)) return;
        call.Cancellation.Dispose();
        call.TrySetResult((object?)reply.Reply ?? reply.Rejected
            ?? new Rejected(ErrorKind.ClusterUnreachable, "Unexpected", "the account answered neither a reply nor a refusal"));
    }

    private void Sweep() => Expire(all: false);

    private void Expire(bool all)
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var (id, call) in _accountCalls)
        {
            if ((all || call.Deadline <= now) && _accountCalls.TryRemove(id, out _))
            {
                call.Cancellation.Dispose();
                call.TrySetException(new AskTimeoutException($"{call.Describe()} got no answer within {call.Timeout.TotalSeconds:0.#} s"));
            }
        }
    }

    private static long DeadlineAfter(TimeSpan timeout) =>
        Stopwatch.GetTimestamp() + (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);

    /// <summary>An account call waiting for its answer: the task its caller awaits, and what a resend needs.</summary>
    private sealed class WaitingCall(ICanTell target, IBankMessage message, bool resend, long id, long deadline, TimeSpan timeout)
        : TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public ICanTell Target { get; } = target;
        public IBankMessage Message { get; } = message;
        public bool Resend { get; } = resend;
        public long Id { get; } = id;
        public long Deadline { get; } = deadline;
        public TimeSpan Timeout { get; } = timeout;
        public CancellationTokenRegistration Cancellation { get; set; }

        public string Describe() => Message switch
        {
            TrackedAccountRequest call => $"{call.Request.Command.GetType().Name} on account {call.Key}",
            CorrelatedNamedAccountRequest call => $"{call.Request.Command.GetType().Name} on '{call.Request.Name}'",
            var other => other.GetType().Name,
        };
    }

    private sealed record AskedCall(IActorRef Target, object Message, IActorRef ReplyTo);

    /// <summary>The node's one reply address for account calls: it hands each answer to the call it answers, on the sender's thread.</summary>
    private sealed class ReplyAddress(IActorRefProvider provider, ActorPath path, InFlightCalls calls) : MinimalActorRef
    {
        public override ActorPath Path => path;

        public override IActorRefProvider Provider => provider;

        protected override void TellInternal(object message, IActorRef sender)
        {
            if (message is CorrelatedAccountReply reply) calls.Answered(reply);
        }
    }
}

/// <summary>Makes the one <see cref="InFlightCalls"/> of an actor system.</summary>
public sealed class InFlightCallsProvider : ExtensionIdProvider<InFlightCalls>
{
    public override InFlightCalls CreateExtension(ExtendedActorSystem system) => new(system);
}
