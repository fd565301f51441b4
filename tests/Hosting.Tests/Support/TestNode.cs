using Akka.Actor;
using Akka.Hosting;
using Bank.Hosting.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bank.Hosting.Tests.Support;

/// <summary>A one-node Bank cluster on the generic host, started the way src/Nodes/EmbeddedNode starts one.</summary>
public sealed class TestNode : IAsyncDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly IHost _host;

    private TestNode(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        Registry = host.Services.GetRequiredService<ActorRegistry>();
    }

    public ActorSystem System { get; }

    public ActorRegistry Registry { get; }

    public IActorRef Accounts => Registry.Get<AccountRegionKey>();

    public IActorRef NameRegistry => Registry.Get<NameRegistryKey>();

    /// <summary>A client session in this node, as `bank demo` opens one.</summary>
    public BankSession NewSession() => new(new LocalGateway(System, NameRegistry, Accounts, CallTimeout));

    /// <summary>A node listening on a free port with its journal in <paramref name="data"/>.</summary>
    public static BankNodeOptions OptionsFor(TempDataDirectory data) => new() { Port = 0, Persistence = data.Persistence };

    /// <summary>Starts the host and waits until the node is Up in its own cluster.</summary>
    public static async Task<TestNode> StartAsync(Action<AkkaConfigurationBuilder, IServiceProvider> configureAkka)
    {
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka(BankConstants.ActorSystemName, configureAkka))
            .Build();
        try
        {
            await host.StartAsync();
            var node = new TestNode(host);
            await node.System.WhenUpAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return node;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public static Task<TestNode> StartAsync(TempDataDirectory data) =>
        StartAsync((builder, _) => builder.WithBankNode(OptionsFor(data)));

    /// <summary>Leaves the cluster and stops the actor system, as a node does on Ctrl+C.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
