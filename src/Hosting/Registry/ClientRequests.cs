using System.Globalization;
using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

/// <summary>
/// The answers to the latest opens and kills, by their request ids, with what each asked: a resend of the same request
/// is answered with its first answer, and the id reused for another request (another name or options, an open's id for
/// a kill) is refused, never answered with the first one's outcome. Bounded: the oldest is forgotten once
/// <c>capacity</c> are kept. A request decided but not yet answered (its writes in flight) is under way: a resend of it
/// waits for its answer. Not thread-safe: the registry owns it.
/// </summary>
internal sealed class ClientRequests(int capacity)
{
    private readonly RecentReplies<Answered> _answered = new(capacity);
    private readonly Dictionary<string, UnderWay> _underWay = new(StringComparer.Ordinal);

    /// <summary>The first answer to this very request, a refusal if the id was used for another, or null if unknown.</summary>
    public object? Recall(string? requestId, string request) => _answered.Find(requestId) switch
    {
        null => null,
        { Request: var earlier } when earlier != request => Reused(requestId!, earlier),
        var answered => answered.Reply,
    };

    /// <summary>The request was decided; it is answered once its decision is durable (<see cref="Remember"/>).</summary>
    public void Start(string? requestId, string request)
    {
        if (requestId is not null) _underWay[requestId] = new UnderWay(request, []);
    }

    /// <summary>
    /// A resend of a request under way waits for its first answer (true); the id of one under way used for another
    /// request is refused with <paramref name="reused"/> (true); false when no request under way has this id.
    /// </summary>
    public bool JoinUnderWay(string? requestId, string request, IActorRef resent, out Rejected? reused)
    {
        reused = null;
        if (requestId is null || !_underWay.TryGetValue(requestId, out var first)) return false;
        if (first.Request == request) first.Resent.Add(resent);
        else reused = Reused(requestId, first.Request);
        return true;
    }

    /// <summary>Keeps the answer; returns the resends that waited for it, which get it too.</summary>
    public IReadOnlyList<IActorRef> Remember(string? requestId, string request, object reply)
    {
        _answered.Add(requestId, new Answered(request, reply));
        return requestId is not null && _underWay.Remove(requestId, out var underWay) ? underWay.Resent : [];
    }

    /// <summary>What an open asks, all of it: two opens with one request id are the same only if this is equal.</summary>
    public static string Of(OpenActor open) => string.Join("|",
        $"the open of '{open.Name}'", open.Key, Invariant(open.Balance), Invariant(open.MinimalBalance), open.Detached, open.GetIfExists,
        open.Owner, open.MaxRestarts, open.MaxTaskRetries,
        string.Join(",", (open.Resources ?? new Dictionary<string, decimal>()).OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => $"{r.Key}={Invariant(r.Value)}")));

    /// <summary>What a kill asks.</summary>
    public static string Of(KillActor kill) => string.Join("|", $"the kill of '{kill.Name}'", kill.Cause, kill.Id);

    public static Rejected Reused(string requestId, string earlier) =>
        Rejected.Rule(Rules.IdReused(requestId, earlier.Split('|')[0]));

    private static string Invariant(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);

    private sealed record Answered(string Request, object Reply);

    private sealed record UnderWay(string Request, List<IActorRef> Resent);
}
