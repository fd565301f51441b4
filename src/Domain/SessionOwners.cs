namespace Bank.Domain;

/// <summary>
/// Who owns an actor that is not detached, and when that owner is gone. A session inside a node is owned by the node's
/// unique address (address and uid), so it dies with that node and with an earlier life of it; a client's session
/// outside the cluster lives while its heartbeats do. Time and the cluster's members are inputs; time is read from a
/// monotonic clock (elapsed since some start), never the wall clock, which may jump.
/// </summary>
public sealed class SessionOwners(TimeSpan ownerTimeout, TimeSpan startedAt)
{
    public const string NodePrefix = "node:";
    public const string ClientPrefix = "client:";

    private readonly Dictionary<string, TimeSpan> _heartbeats = new(StringComparer.Ordinal);

    /// <summary>The owner of a session opened inside the node <paramref name="node"/> (<c>address#uid</c>).</summary>
    public static string OfNode(string node, string session) => $"{NodePrefix}{node}/{session}";

    public static string OfClient(string session) => ClientPrefix + session;

    /// <summary>The node (<c>address#uid</c>) of a node owner; the session id follows the last '/', as the address holds "://".</summary>
    public static string NodeOf(string owner)
    {
        var slash = owner.LastIndexOf('/');
        return slash < 0 ? owner[NodePrefix.Length..] : owner[NodePrefix.Length..slash];
    }

    public static bool IsNodeOwner(string owner) => owner.StartsWith(NodePrefix, StringComparison.Ordinal);

    public void Heartbeat(string owner, TimeSpan now) => _heartbeats[owner] = now;

    /// <summary>A client owner is gone when it has not been heard from (since the registry started) for the owner timeout.</summary>
    public bool IsClientGone(string owner, TimeSpan now) => now - _heartbeats.GetValueOrDefault(owner, startedAt) > ownerTimeout;

    /// <summary>Is the owner gone, given the nodes (<c>address#uid</c>) that are members now? An owner of no known kind is.</summary>
    public bool IsGone(string owner, TimeSpan now, IReadOnlySet<string> memberNodes) => owner switch
    {
        _ when IsNodeOwner(owner) => !memberNodes.Contains(NodeOf(owner)),
        _ when owner.StartsWith(ClientPrefix, StringComparison.Ordinal) => IsClientGone(owner, now),
        _ => true,
    };

    /// <summary>Forgets the heartbeats of clients that are gone.</summary>
    public void ForgetGone(TimeSpan now)
    {
        foreach (var owner in _heartbeats.Keys.Where(o => IsClientGone(o, now)).ToList()) _heartbeats.Remove(owner);
    }
}
