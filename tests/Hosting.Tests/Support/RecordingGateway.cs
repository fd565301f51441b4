using System.Collections.Concurrent;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Tests.Support;

/// <summary>A gateway that passes every call on and remembers what a session sent through it, in order.</summary>
public sealed class RecordingGateway(IBankGateway inner) : IBankGateway
{
    private readonly ConcurrentQueue<object> _sent = new();
    private readonly ConcurrentQueue<string> _keptAlive = new();

    /// <summary>Every request and account call, in the order the session made them: each one is one round trip.</summary>
    public IReadOnlyList<object> Sent => [.. _sent];

    /// <summary>What went through <see cref="RequestAsync"/>: registry, transfer, history and inspection requests.</summary>
    public IReadOnlyList<IBankMessage> Requests => [.. _sent.OfType<IBankMessage>().Where(m => m is not (AccountRequest or NamedAccountRequest))];

    /// <summary>The owners whose heartbeats were started.</summary>
    public IReadOnlyList<string> KeptAlive => [.. _keptAlive];

    public string OwnerFor(string session) => inner.OwnerFor(session);

    public TimeSpan RetryDeadline => inner.RetryDeadline;

    public IDisposable KeepAlive(string owner)
    {
        _keptAlive.Enqueue(owner);
        return inner.KeepAlive(owner);
    }

    public Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken = default)
    {
        _sent.Enqueue(request);
        return inner.RequestAsync(request, cancellationToken);
    }

    public Task<object> CallAccountAsync(AccountRequest request, CancellationToken cancellationToken = default)
    {
        _sent.Enqueue(request);
        return inner.CallAccountAsync(request, cancellationToken);
    }

    public Task<object> CallAccountAsync(NamedAccountRequest request, CancellationToken cancellationToken = default)
    {
        _sent.Enqueue(request);
        return inner.CallAccountAsync(request, cancellationToken);
    }
}
