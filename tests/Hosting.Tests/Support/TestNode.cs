using Akka.Actor;
using Akka.Hosting;
using Bank.Hosting.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Tests.Support;

/// <summary>A one-node Bank cluster on the generic host, started by <see cref="BankHost"/> as `bank` starts one.</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly BankHost _host;

    private TestNode(BankHost host) => _host = host;

    public ActorSystem System => _host.System;

    public ActorRegistry Registry => _host.Registry;

    public IActorRef Accounts => Registry.Get<AccountRegionKey>();

    public IActorRef NameRegistry => Registry.Get<NameRegistryKey>();

    /// <summary>A client session in this node, as `bank demo` opens one.</summary>
    public BankSession NewSession() => new(_host.Gateway);

    /// <summary>A node listening on a free port with its journal in <paramref name="data"/>.</summary>
    public static BankNodeOptions OptionsFor(TempDataDirectory data) => new() { Port = 0, Persistence = data.Persistence };

    /// <summary>Starts the host and waits until the node is Up in its own cluster.</summary>
    public static async Task<TestNode> StartAsync(Action<AkkaConfigurationBuilder, IServiceProvider> configureAkka) =>
        new(await BankHost.StartAsync(configureAkka));

    public static Task<TestNode> StartAsync(TempDataDirectory data) =>
        StartAsync((builder, _) => builder.WithBankNode(OptionsFor(data)));

    /// <summary>Leaves the cluster and stops the actor system, as a node does on Ctrl+C.</summary>
    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
