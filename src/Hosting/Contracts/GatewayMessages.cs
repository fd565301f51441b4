namespace Bank.Hosting.Contracts;

/// <summary>Requests the node's gateway answers itself, for a client outside the cluster or a session inside a node.</summary>
public interface IGatewayRequest : IBankMessage;

/// <summary>
/// The events of the account behind a name (the live actor, else the latest dead one), oldest first: one page of those
/// after sequence number <paramref name="After"/>, at most <paramref name="Limit"/> (0: a full page, see <see cref="Pages"/>).
/// </summary>
public sealed record GetHistory(string Name, long After = 0, int Limit = 0) : IGatewayRequest;

/// <summary>One journaled event of an account, for `bank history`; deposits and withdrawals carry their call's request id.</summary>
public sealed record HistoryEntry(long Seq, string Type, decimal? Amount, decimal Balance, DateTimeOffset At, string? RequestId = null)
    : IBankMessage;

/// <param name="Next">The <see cref="GetHistory.After"/> of the next page; null on the last page.</param>
public sealed record History(string Name, string Key, IReadOnlyList<HistoryEntry> Events, long? Next = null) : IBankMessage;

/// <summary>`bank chaos crash NAME --times N`: the named actor throws on its next N calls. Needs --allow-fault-injection.</summary>
public sealed record CrashActor(string Name, int Times) : IGatewayRequest;

/// <summary>`bank chaos kill-node ADDRESS`: that node's process dies at once, like kill -9. Needs --allow-fault-injection.</summary>
public sealed record KillNode(string Address) : IGatewayRequest;

/// <summary>The node at <paramref name="Address"/> is about to die.</summary>
public sealed record NodeKilled(string Address) : IBankMessage;

/// <summary>
/// An account call from a client through ClusterClient, with the id its answer comes back under. A client sends all its
/// account calls from one actor, so the cluster's receptionist keeps one response tunnel for the client; an Ask per
/// call would make it create a tunnel actor per call (docs/benchmarks.md has what that cost).
/// </summary>
public sealed record CorrelatedAccountRequest(long Id, AccountRequest Request) : IGatewayRequest;

/// <summary>The answer to <see cref="CorrelatedAccountRequest"/> <paramref name="Id"/>: the account's reply, or why it was refused.</summary>
public sealed record CorrelatedAccountReply(long Id, AccountReply? Reply, Rejected? Rejected) : IBankMessage
{
    /// <summary>An account's answer (<see cref="AccountReply"/> or <see cref="Rejected"/>) under the call's id.</summary>
    public static CorrelatedAccountReply Of(long id, object answer) => answer switch
    {
        AccountReply reply => new CorrelatedAccountReply(id, reply, null),
        Rejected rejected => new CorrelatedAccountReply(id, null, rejected),
        var other => new CorrelatedAccountReply(id, null, new Rejected(ErrorKind.ClusterUnreachable, "Unexpected",
            $"the account answered {other.GetType().Name}")),
    };
}

/// <summary>
/// A request through a node's client door, with the credential of whoever sends it (made by `bank cert issue`): the door
/// checks the credential and its role (<see cref="DoorPolicy"/>) before the request reaches the gateway.
/// </summary>
public sealed record Credentialed(string Credential, IBankMessage Request) : IBankMessage;
