namespace Bank.Domain;

/// <summary>
/// The answers to the latest requests by request id, so a client's resent request is answered, not done twice. The
/// oldest answer is forgotten once <c>capacity</c> are kept; the first answer to an id stays.
/// </summary>
public sealed class RecentReplies<T>(int capacity) where T : class
{
    private readonly Dictionary<string, T> _byId = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public T? Find(string? requestId) => requestId is not null && _byId.TryGetValue(requestId, out var reply) ? reply : null;

    public void Add(string? requestId, T reply)
    {
        if (requestId is null || !_byId.TryAdd(requestId, reply)) return;
        _order.Enqueue(requestId);
        if (_order.Count > capacity) _byId.Remove(_order.Dequeue());
    }
}
