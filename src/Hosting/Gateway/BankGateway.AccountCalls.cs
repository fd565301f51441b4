using System.Diagnostics;
using Bank.Domain;
using Akka.Actor;
using Akka.Event;
using Bank.Hosting.Contracts;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The gateway's account calls: by incarnation (<see cref="AccountRequest"/>) or by name (<see cref="NamedAccountRequest"/>),
/// plain or under a ClusterClient's correlation id. Every one passes <see cref="ClientCallPolicy"/> first. A call by name
/// is resolved here, inside the cluster, so the client pays one round trip for it.
/// </summary>
public sealed partial class BankGateway
{
    /// <summary>Names remembered: enough for the accounts a busy client calls by name, small next to what a node holds.</summary>
    private const int NameCacheCapacity = 10_000;

    private readonly NameCache _names = new(NameCacheCapacity);

    // The incarnation each recent request id went to: a resend goes there again and never to a later holder of the name,
    // which a request id cannot protect (request ids are remembered per account).
    private readonly RecentReplies<ActorInfo> _sentTo = new(NameCacheCapacity);

    // The account key each recent request id of a call by incarnation went to: the id again for another account is
    // refused here (each account alone remembers only its own ids). Bounded, oldest out.
    private readonly RequestTargets _keyOf = new(NameCacheCapacity);

    private readonly ILoggingAdapter _log = Context.GetLogger();

    private void ReceiveAccountCalls()
    {
        Receive<AccountRequest>(request =>
        {
            if (ClientCallPolicy.Admit(request, out var refused) is not { } admitted) Sender.Tell(refused);
            else if (ReusedElsewhere(admitted) is { } reused) Sender.Tell(reused);
            else _accounts.Forward(admitted);
        });
        Receive<CorrelatedAccountRequest>(CallByIncarnation);
        Receive<NamedAccountRequest>(call => CallByName(call, Sender, answer => answer));
        Receive<CorrelatedNamedAccountRequest>(call => CallByName(call.Request, Sender, answer => CorrelatedAccountReply.Of(call.Id, answer)));
        Receive<NameResolved>(resolved => _names.Remember(resolved.Actor));
        Receive<NameGone>(gone => _names.Forget(gone.Name, gone.Id));
        Receive<RequestSentTo>(sent => _sentTo.Add(sent.RequestId, sent.Actor));
    }

    /// <summary>
    /// A client's account call under its correlation id. Answered only when the account answers: on silence the client
    /// sends the call again (same request id, applied once), as it does for an uncorrelated call.
    /// </summary>
    private void CallByIncarnation(CorrelatedAccountRequest call)
    {
        var (id, replyTo, started, kind) = (call.Id, Sender, Stopwatch.GetTimestamp(), BankMetrics.KindOf(call));
        var admitted = ClientCallPolicy.Admit(call.Request, out var refused);
        if ((admitted is null ? refused : ReusedElsewhere(admitted)) is { } no)
        {
            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(no), started);
            replyTo.Tell(CorrelatedAccountReply.Of(id, no));
            return;
        }

        _ = AnswerAsync(_inFlight, _accounts, admitted!, _timeout);

        // Touches no state of the gateway: only the call's id and where its answer goes.
        async Task AnswerAsync(InFlightCalls inFlight, IActorRef accounts, AccountRequest request, TimeSpan timeout)
        {
            object answer;
            try
            {
                answer = await inFlight.CallAsync(accounts, request, timeout);
            }
            catch (Exception)
            {
                // No answer (a timeout, a failure): the client hears silence and sends the call again.
                BankMetrics.RecordCall(kind, BankMetrics.NoAnswer, started);
                return;
            }

            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(answer), started);
            replyTo.Tell(CorrelatedAccountReply.Of(id, answer));
        }
    }

    /// <summary>A call on the account behind a name; answered, like a call by incarnation, only when the account answers.</summary>
    private void CallByName(NamedAccountRequest request, IActorRef replyTo, Func<object, object> reply)
    {
        var (started, kind) = (Stopwatch.GetTimestamp(), BankMetrics.KindOf(request));
        if (ClientCallPolicy.Admit(request, out var refused) is not { } call)
        {
            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(refused!), started);
            replyTo.Tell(reply(refused!));
            return;
        }

        var requestId = RequestIdOf(call.Command);
        if (_sentTo.Find(requestId) is { } earlier && earlier.Name != call.Name)
        {
            // Resent, it would go to the account the id went to first, and its answer would be that account's.
            var reused = IdReused(requestId!, $"a call on '{earlier.Name}'");
            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(reused), started);
            replyTo.Tell(reply(reused));
            return;
        }

        var log = _log;
        var lookup = new NameLookup(_registry, _accounts, _inFlight, Self, _timeout, requestId);
        _ = _sentTo.Find(requestId) is { } sentBefore ? AnswerAsync(sentBefore, resend: true) : AnswerAsync(_names.Find(call.Name), resend: false);

        async Task AnswerAsync(ActorInfo? remembered, bool resend)
        {
            object answer;
            try
            {
                answer = resend ? await lookup.CallAgainAsync(call, remembered!) : await lookup.CallAsync(call, remembered);
            }
            catch (AskTimeoutException)
            {
                // Silence, as for a call by incarnation: the client sends the call again under the same request id.
                BankMetrics.RecordCall(kind, BankMetrics.NoAnswer, started);
                return;
            }
            catch (Exception e)
            {
                BankMetrics.RecordCall(kind, BankMetrics.NoAnswer, started);
                log.Warning("Call by name on {Name} got no answer: {Error}", call.Name, e.Message);
                return;
            }

            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(answer), started);
            replyTo.Tell(reply(answer));
        }
    }

    private Rejected? ReusedElsewhere(AccountRequest call) => ClientCallPolicy.ReusedElsewhere(_keyOf, call);

    private static Rejected IdReused(string requestId, string earlier) => Rejected.Rule(Rules.IdReused(requestId, earlier));

    /// <summary>The name stands for this incarnation, as the registry said.</summary>
    private sealed record NameResolved(ActorInfo Actor);

    /// <summary>The incarnation the name stood for answered that it is gone.</summary>
    private sealed record NameGone(string Name, string Id);

    /// <summary>A call by name under this request id went to this incarnation.</summary>
    private sealed record RequestSentTo(string RequestId, ActorInfo Actor);

    private static string? RequestIdOf(Domain.IAccountCommand command) => command switch
    {
        Deposit deposit => deposit.RequestId,
        Withdraw withdraw => withdraw.RequestId,
        _ => null,
    };

    /// <summary>
    /// One call by name, run outside the gateway's context: it reads nothing of the gateway's and tells it what it learns
    /// about names, in messages.
    /// </summary>
    private sealed class NameLookup(IActorRef registry, IActorRef accounts, InFlightCalls inFlight, IActorRef gateway, TimeSpan timeout, string? requestId)
    {
        /// <summary>A resend goes only to the incarnation its first attempt went to: gone, it is answered as gone.</summary>
        public Task<object> CallAgainAsync(NamedAccountRequest call, ActorInfo sentBefore) => CallCurrentAsync(call, sentBefore);

        /// <summary>
        /// Calls the incarnation the name stands for. A <paramref name="remembered"/> one that answers it is gone may be
        /// stale (killed or reopened since): then the name is looked up, and called again only if it now stands for
        /// another incarnation; the answer is what a look-up and then a call would have given.
        /// </summary>
        public async Task<object> CallAsync(NamedAccountRequest call, ActorInfo? remembered)
        {
            if (remembered is null)
                return await ResolveAsync(call.Name) switch
                {
                    ActorInfo found => await CallCurrentAsync(call, found),
                    var notFound => notFound,
                };

            var answer = await AskAsync(remembered, call.Command);
            if (!ClientCallPolicy.IsGone(answer)) return answer;
            // Gone, so not applied there: this attempt may still go to the name's next holder.
            gateway.Tell(new NameGone(remembered.Name, remembered.Id));
            return await ResolveAsync(call.Name) switch
            {
                ActorInfo current when current.Id == remembered.Id => ClientCallPolicy.Gone(call.Name, current.Id, (Rejected)answer),
                ActorInfo current => await CallCurrentAsync(call, current),
                var notFound => notFound,
            };
        }

        private async Task<object> CallCurrentAsync(NamedAccountRequest call, ActorInfo actor)
        {
            var answer = await AskAsync(actor, call.Command);
            if (!ClientCallPolicy.IsGone(answer)) return answer;
            gateway.Tell(new NameGone(actor.Name, actor.Id));
            return ClientCallPolicy.Gone(call.Name, actor.Id, (Rejected)answer);
        }

        /// <summary>The name's live incarnation (<see cref="ActorInfo"/>), or the registry's refusal (ActorNotFound).</summary>
        private async Task<object> ResolveAsync(string name)
        {
            var found = await registry.Ask<object>(new GetActor(name), timeout);
            if (found is ActorInfo actor) gateway.Tell(new NameResolved(actor));
            return found;
        }

        private Task<object> AskAsync(ActorInfo actor, Domain.IAccountCommand command)
        {
            if (requestId is not null) gateway.Tell(new RequestSentTo(requestId, actor));
            return inFlight.CallAsync(accounts, new AccountRequest(actor.Key, actor.Id, command), timeout);
        }
    }
}
