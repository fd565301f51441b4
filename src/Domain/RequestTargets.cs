namespace Bank.Domain;

/// <summary>
/// The account each recent client request id went to, at one door: the id again for another account is refused there,
/// since each account remembers only the ids it applied itself. Bounded: the oldest id is forgotten once
/// <c>capacity</c> are kept. Thread-safe, for the doors that are not actors.
/// </summary>
public sealed class RequestTargets(int capacity)
{
    private readonly RecentReplies<string> _targets = new(capacity);

    /// <summary>Records that <paramref name="requestId"/> goes to <paramref name="target"/>; returns the other target it went to first, if any.</summary>
    public string? Claim(string? requestId, string target)
    {
        if (requestId is null) return null;
        lock (_targets)
        {
            if (_targets.Find(requestId) is { } earlier) return earlier == target ? null : earlier;
            _targets.Add(requestId, target);
            return null;
        }
    }
}
