using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
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
/// temp-path registration per call, as Akka's <c>Ask</c> would make. A request to an actor that simply answers its
/// sender (the registry, the transfers) goes out from a reply address of its own under the node's one, a path and not
/// an actor: found by its id, so nothing is registered for it. One sweep a tenth of a second fails the calls whose time
/// is up, with <see cref="AskTimeoutException"/> as an ask would.
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

    private readonly ConcurrentDictionary<long, WaitingCall> _waiting = new();
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
    public int Count => _waiting.Count;

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
        _waiting[id] = call;
        if (cancellationToken.CanBeCanceled)
            call.Cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (calls, id) = ((InFlightCalls, long))state!;
                if (calls._waiting.TryRemove(id, out var cancelled)) cancelled.TrySetCanceled(token);
            }, (this, id));
        call.Target.Tell(call.Message, (IActorRef?)call.ReplyTo ?? _replyAddress);
        return call.Task;
    }

    /// <summary>
    /// A request to <paramref name="target"/>, an actor that answers its sender (the registry, the transfers, this node's
    /// gateway): its answer, whatever it is; <see cref="AskTimeoutException"/> after <paramref name="timeout"/> without
    /// one. A request that is safe to send twice is sent again by <see cref="ResendAll"/>.
    /// </summary>
    public Task<object> RequestAsync(ICanTell target, object message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _next);
        var call = new WaitingCall(target, message, SafeToResend(message), id, DeadlineAfter(timeout), timeout);
        call.ReplyTo = new CallReplyAddress(this, _replyAddress, id);
        return Send(call, cancellationToken);
    }

    /// <summary>Sends every call still waiting that is safe to send twice again (the first answer wins); returns how many.</summary>
    public int ResendAll()
    {
        var sent = 0;
        foreach (var call in _waiting.Values)
        {
            if (!call.Resend) continue;
            call.Target.Tell(call.Message, (IActorRef?)call.ReplyTo ?? _replyAddress);
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
        if (!_waiting.TryRemove(reply.Id, out var call)) return;
        call.Cancellation.Dispose();
        call.TrySetResult((object?)reply.Reply ?? reply.Rejected
            ?? new Rejected(ErrorKind.ClusterUnreachable, "Unexpected", "the account answered neither a reply nor a refusal"));
    }

    /// <summary>The answer to a request (<see cref="RequestAsync"/>); a <see cref="Status.Failure"/> fails it, as it fails an ask.</summary>
    private void Answered(long id, object answer)
    {
        if (!_waiting.TryRemove(id, out var call)) return;
        call.Cancellation.Dispose();
        if (answer is Status.Failure failure) call.TrySetException(failure.Cause);
        else call.TrySetResult(answer);
    }

    private void Sweep() => Expire(all: false);

    private void Expire(bool all)
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var (id, call) in _waiting)
        {
            if ((all || call.Deadline <= now) && _waiting.TryRemove(id, out _))
            {
                call.Cancellation.Dispose();
                call.TrySetException(new AskTimeoutException($"{call.Describe()} got no answer within {call.Timeout.TotalSeconds:0.#} s"));
            }
        }
    }

    private static long DeadlineAfter(TimeSpan timeout) =>
        Stopwatch.GetTimestamp() + (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);

    /// <summary>A call waiting for its answer: the task its caller awaits, and what a resend needs.</summary>
    private sealed class WaitingCall(ICanTell target, object message, bool resend, long id, long deadline, TimeSpan timeout)
        : TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public ICanTell Target { get; } = target;
        public object Message { get; } = message;

        /// <summary>A request's own reply address; null for an account call, answered at the node's under its id.</summary>
        public CallReplyAddress? ReplyTo { get; set; }

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

    /// <summary>The node's one reply address: it hands each account call's answer to its call, on the sender's thread.</summary>
    private sealed class ReplyAddress(IActorRefProvider provider, ActorPath path, InFlightCalls calls) : MinimalActorRef
    {
        public override ActorPath Path => path;

        public override IActorRefProvider Provider => provider;

        protected override void TellInternal(object message, IActorRef sender)
        {
            if (message is CorrelatedAccountReply reply) calls.Answered(reply);
        }

        /// <summary>A request's reply address, as an answer from another node names it: this one's path and the call's id.</summary>
        public override IActorRef GetChild(IReadOnlyList<string> name) =>
            name.All(string.IsNullOrEmpty) ? this
            : name.Count == 1 && long.TryParse(name[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && calls._waiting.TryGetValue(id, out var call) && call.ReplyTo is { } replyTo
                ? replyTo
                : ActorRefs.Nobody;
    }

    /// <summary>
    /// The reply address of one request: a child of the node's, by the call's id, so that it resolves on this node without
    /// a registration of its own. Its path is made only if someone asks for it (a remote send).
    /// </summary>
    private sealed class CallReplyAddress(InFlightCalls calls, ReplyAddress parent, long id) : MinimalActorRef
    {
        private ActorPath? _path;

        public override ActorPath Path => _path ??= parent.Path / id.ToString(CultureInfo.InvariantCulture);

        public override IActorRefProvider Provider => parent.Provider;

        public override IInternalActorRef Parent => parent;

        protected override void TellInternal(object message, IActorRef sender) => calls.Answered(id, message);
    }
}

/// <summary>Makes the one <see cref="InFlightCalls"/> of an actor system.</summary>
public sealed class InFlightCallsProvider : ExtensionIdProvider<InFlightCalls>
{
    public override InFlightCalls CreateExtension(ExtendedActorSystem system) => new(system);
}
