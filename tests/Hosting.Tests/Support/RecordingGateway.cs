using System.Collections.Concurrent;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Tests.Support;

/// <summary>A gateway that passes every call on and remembers what a session asked the registry.</summary>
public sealed class RecordingGateway(IBankGateway inner) : IBankGateway
{
    private readonly ConcurrentQueue<IBankMessage> _registryRequests = new();

    public IReadOnlyList<IBankMessage> RegistryRequests => [.. _registryRequests];

    public string OwnerFor(string session) => inner.OwnerFor(session);

    public IDisposable KeepAlive(string owner) => inner.KeepAlive(owner);

    public Task<object> AskRegistryAsync(IBankMessage request, CancellationToken cancellationToken = default)
    {
        _registryRequests.Enqueue(request);
        return inner.AskRegistryAsync(request, cancellationToken);
    }

    public Task<object> AskAccountAsync(AccountRequest request, CancellationToken cancellationToken = default) =>
        inner.AskAccountAsync(request, cancellationToken);
}
