using System.Collections.Concurrent;
using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The calls this node has sent into the cluster (its gateway's, its transfer sagas' steps) and not yet seen answered,
/// one table per node. A call that went to a node that then died is lost with it; when that node is removed, the
/// gateway has <see cref="ResendAll"/> send every call still waiting again, to the same temporary reply address, so
/// that it reaches the account's new home at once instead of waiting out its timeout. Only calls that are safe to send
/// twice are kept (<see cref="SafeToResend"/>): reads, and writes under a request or transfer id, applied once.
/// </summary>
public sealed class InFlightCalls : IExtension
{
    private readonly ConcurrentDictionary<long, Call> _calls = new();
    private long _next;

    /// <summary>This node's table.</summary>
    public static InFlightCalls For(ActorSystem system) => system.WithExtension<InFlightCalls, InFlightCallsProvider>();

    /// <summary>How many calls are waiting for their answers now.</summary>
    public int Count => _calls.Count;

    /// <summary>Asks <paramref name="target"/>; while no answer has come, the call can be sent again by <see cref="ResendAll"/>.</summary>
    public async Task<object> AskAsync(IActorRef target, object message, TimeSpan timeout)
    {
        if (!SafeToResend(message)) return await target.Ask<object>(message, timeout);
        var id = Interlocked.Increment(ref _next);
        try
        {
            return await target.Ask<object>(replyTo =>
            {
                _calls[id] = new Call(target, message, replyTo);
                return message;
            }, timeout, CancellationToken.None);
        }
        finally
        {
            _calls.TryRemove(id, out _);
        }
    }

    /// <summary>Sends every call still waiting again, answers to the same reply address (the first answer wins); returns how many.</summary>
    public int ResendAll()
    {
        var sent = 0;
        foreach (var call in _calls.Values)
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

    private sealed record Call(IActorRef Target, object Message, IActorRef ReplyTo);
}

/// <summary>Makes the one <see cref="InFlightCalls"/> of an actor system.</summary>
public sealed class InFlightCallsProvider : ExtensionIdProvider<InFlightCalls>
{
    public override InFlightCalls CreateExtension(ExtendedActorSystem system) => new();
}
