using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

/// <summary>
/// Who waits for each open under way (its requester, and the get-if-exists and resent requests that came meanwhile),
/// with the request itself and how many times its account was asked. The model (<c>RegistryState.Pending</c>) holds
/// what the open reserves; this holds the actor references, which stay out of the domain.
/// </summary>
internal sealed class OpenRequests
{
    private readonly Dictionary<string, Waiting> _byName = new(StringComparer.Ordinal);

    /// <summary>The same opens by request id: up to the client's concurrency are under way at once, every open looks here.</summary>
    private readonly Dictionary<string, Waiting> _byRequestId = new(StringComparer.Ordinal);

    public void Start(OpenActor request, IActorRef requester)
    {
        var waiting = new Waiting(request, requester);
        _byName[request.Name] = waiting;
        if (request.RequestId is { } id) _byRequestId[id] = waiting;
    }

    public OpenActor? Find(string name) => _byName.GetValueOrDefault(name)?.Request;

    /// <summary>The open under way with this request id, if any.</summary>
    public OpenActor? FindByRequestId(string? requestId) =>
        requestId is not null && _byRequestId.TryGetValue(requestId, out var waiting) ? waiting.Request : null;

    public void Wait(string name, IActorRef waiter)
    {
        if (_byName.TryGetValue(name, out var waiting)) waiting.Waiters.Add(waiter);
    }

    /// <summary>Counts one more try of the open's account; returns how many there were.</summary>
    public int Attempt(string name) => _byName.TryGetValue(name, out var waiting) ? ++waiting.Attempts : 0;

    public int Attempts(string name) => _byName.GetValueOrDefault(name)?.Attempts ?? 0;

    /// <summary>Answers everyone waiting for the open, which ends; returns its request, or null when none was under way.</summary>
    public OpenActor? ReplyAll(string name, object reply)
    {
        if (!_byName.Remove(name, out var waiting)) return null;
        if (waiting.Request.RequestId is { } id) _byRequestId.Remove(id);
        waiting.Requester.Tell(reply);
        foreach (var waiter in waiting.Waiters) waiter.Tell(reply);
        return waiting.Request;
    }

    private sealed class Waiting(OpenActor request, IActorRef requester)
    {
        public OpenActor Request { get; } = request;

        public IActorRef Requester { get; } = requester;

        public List<IActorRef> Waiters { get; } = [];

        public int Attempts { get; set; }
    }
}
