using Bank.Domain;
using Akka.Actor;
using Bank.Hosting.Contracts;

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

    private void ReceiveAccountCalls()
    {
        Receive<AccountRequest>(request =>
        {
            if (ClientCallPolicy.Refusal(request.Command) is { } refused) Sender.Tell(refused);
            else _accounts.Forward(request);
        });
        Receive<CorrelatedAccountRequest>(CallByIncarnation);
        Receive<NamedAccountRequest>(call => CallByName(call, Sender, answer => answer));
        Receive<CorrelatedNamedAccountRequest>(call => CallByName(call.Request, Sender, answer => Correlate(call.Id, answer)));
        Receive<NameResolved>(resolved => _names.Remember(resolved.Actor));
        Receive<NameGone>(gone => _names.Forget(gone.Name, gone.Id));
    }

    /// <summary>
    /// A client's account call under its correlation id. Answered only when the account answers: on silence the client
    /// sends the call again (same request id, applied once), as it does for an uncorrelated call.
    /// </summary>
    private void CallByIncarnation(CorrelatedAccountRequest call)
    {
        var (id, replyTo) = (call.Id, Sender);
        if (ClientCallPolicy.Refusal(call.Request.Command) is { } refused)
        {
            replyTo.Tell(Correlate(id, refused));
            return;
        }

        _ = AnswerAsync(_accounts, call.Request, _timeout);

        // Touches no state of the gateway: only the call's id and where its answer goes.
        async Task AnswerAsync(IActorRef accounts, AccountRequest request, TimeSpan timeout)
        {
            object answer;
            try
            {
                answer = await accounts.Ask<object>(request, timeout);
            }
            catch (Exception)
            {
                // No answer (a timeout, a failure): the client hears silence and sends the call again.
                return;
            }

            replyTo.Tell(Correlate(id, answer));
        }
    }

    /// <summary>A call on the account behind a name; answered, like a call by incarnation, only when the account answers.</summary>
    private void CallByName(NamedAccountRequest call, IActorRef replyTo, Func<object, object> reply)
    {
        if (ClientCallPolicy.Refusal(call.Command) is { } refused)
        {
            replyTo.Tell(reply(refused));
            return;
        }

        var lookup = new NameLookup(_registry, _accounts, Self, _timeout);
        _ = AnswerAsync(_names.Find(call.Name));

        async Task AnswerAsync(ActorInfo? remembered)
        {
            object answer;
            try
            {
                answer = await lookup.CallAsync(call, remembered);
            }
            catch (Exception)
            {
                // Silence, as for a call by incarnation: the client sends the call again under the same request id.
                return;
            }

            replyTo.Tell(reply(answer));
        }
    }

    private static CorrelatedAccountReply Correlate(long id, object answer) => answer switch
    {
        AccountReply reply => new CorrelatedAccountReply(id, reply, null),
        Rejected rejected => new CorrelatedAccountReply(id, null, rejected),
        var other => new CorrelatedAccountReply(id, null, new Rejected(ErrorKind.ClusterUnreachable, "Unexpected",
            $"the account answered {other.GetType().Name}")),
    };

    /// <summary>The name stands for this incarnation, as the registry said.</summary>
    private sealed record NameResolved(ActorInfo Actor);

    /// <summary>The incarnation the name stood for answered that it is gone.</summary>
    private sealed record NameGone(string Name, string Id);

    /// <summary>
    /// One call by name, run outside the gateway's context: it reads nothing of the gateway's and tells it what it learns
    /// about names, in messages.
    /// </summary>
    private sealed class NameLookup(IActorRef registry, IActorRef accounts, IActorRef gateway, TimeSpan timeout)
    {
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

        private Task<object> AskAsync(ActorInfo actor, Domain.IAccountCommand command) =>
            accounts.Ask<object>(new AccountRequest(actor.Key, actor.Id, command), timeout);
    }
}
