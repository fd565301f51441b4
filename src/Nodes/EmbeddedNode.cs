using Akka.Actor;
using Akka.Hosting;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bank.Nodes;

/// <summary>A Bank node inside this process, on the generic host: what `bank demo` runs on.</summary>
public sealed class EmbeddedNode : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedNode(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        var registry = host.Services.GetRequiredService<ActorRegistry>();
        Gateway = new LocalGateway(System, registry.Get<NameRegistryKey>(), registry.Get<AccountRegionKey>(),
            System.Settings.Config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)));
    }

    public ActorSystem System { get; }

    public IBankGateway Gateway { get; }

    public static async Task<EmbeddedNode> StartAsync(BankNodeOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Persistence is { } persistence)
            await persistence.EnsureReachableAsync(cancellationToken);
        var host = new HostBuilder()
            .ConfigureLogging(logging => logging
                .ClearProviders()
                .AddSimpleConsole(console => console.SingleLine = true)
                .AddFilter(level => level >= LogLevel.Warning)
                // A failed start is reported by the command line in one line, not as the host's stack trace.
                .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None))
            .ConfigureServices(services => services
                .Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console =>
                    console.LogToStandardErrorThreshold = LogLevel.Trace)
                .AddAkka(BankConstants.ActorSystemName, builder => builder
                    .ConfigureLoggers(loggers =>
                    {
                        loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
                        loggers.ClearLoggers();
                        loggers.AddLoggerFactory();
                    })
                    .WithBankNode(options)))
            .Build();

        await host.StartAsync(cancellationToken);
        var node = new EmbeddedNode(host);
        await node.System.WhenUpAsync().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return node;
    }

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    /// <summary>Where the HOCON defaults were read from, for messages.</summary>
    public static string HoconDirectory => BankHocon.Directory;
}
