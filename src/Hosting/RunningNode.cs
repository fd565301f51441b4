using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using Bank.Hosting.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Bank.Hosting.Contracts;
using Bank.Hosting.Lease;

namespace Bank.Hosting;

/// <summary>A Bank node on the generic host, started and Up in its cluster: what `bank` and the specs run.</summary>
public sealed partial class RunningNode : IAsyncDisposable
{
    private readonly IHost _host;
    private IDisposable? _dataFolderLock;

    private RunningNode(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        Registry = host.Services.GetRequiredService<ActorRegistry>();
        Gateway = new LocalGateway(System, Registry.Get<NameRegistryKey>(), Registry.Get<AccountRegionKey>(),
            System.Settings.Config.GetTimeSpan("bank.client.ask-timeout", TimeSpan.FromSeconds(15)));
    }

    public ActorSystem System { get; }

    /// <summary>Cancelled when the process is asked to stop (Ctrl+C, SIGTERM): work in progress should give up.</summary>
    public CancellationToken Stopping => _host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

    public ActorRegistry Registry { get; }

    /// <summary>The node's health checks (<c>/health/live</c>, <c>/health/ready</c>): what <see cref="Web.NodeHealth"/> registered.</summary>
    public Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService Health =>
        _host.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();

    /// <summary>Sessions opened on this gateway call the node's registry and accounts directly.</summary>
    public IBankGateway Gateway { get; }

    /// <summary>Starts a node composed by <see cref="BankNodeHostingExtensions.WithBankNode"/>, logging warnings to stderr.</summary>
    public static async Task<RunningNode> StartAsync(BankNodeOptions options, CancellationToken cancellationToken = default)
    {
        var persistence = options.Persistence ?? BankPersistenceOptions.FromConfig(Configuration.BankConfiguration.Current.Config);
        await persistence.EnsureReachableAsync(cancellationToken);
        var folderLock = persistence.LockDataFolder();
        try
        {
            // Started with the actor system, so that it hears the first association error with a seed.
            var refused = new TaskCompletionSource<Task<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
            var node = await StartAsync((builder, _) => builder
                .ConfigureLoggers(loggers =>
                {
                    loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
                    loggers.ClearLoggers();
                    loggers.AddLogger<FilteringLoggerFactoryLogger>();
                    loggers.WithLogFilter(filter => NodeLogFilter(filter));
                })
                .WithBankNode(options with { Persistence = persistence })
                .AddStartup((system, _) => refused.TrySetResult(JoinWatch.Start(system, options.Seeds, options.Tls?.Certificate))),
                options.JsonLogs ? JsonWarningsToStderr : WarningsToStderr, refused.Task.Unwrap(), cancellationToken);
            node._dataFolderLock = folderLock;
            return node;
        }
        catch
        {
            folderLock?.Dispose();
            throw;
        }
    }

    /// <summary>Starts a node composed by <paramref name="configureAkka"/> and waits until it is Up.</summary>
    public static Task<RunningNode> StartAsync(Action<AkkaConfigurationBuilder, IServiceProvider> configureAkka,
        Action<ILoggingBuilder>? configureLogging = null, CancellationToken cancellationToken = default) =>
        StartAsync(configureAkka, configureLogging, refused: null, cancellationToken);

    /// <param name="refused">Completes with the one-line reason when the seeds keep this node out (<see cref="JoinWatch"/>).</param>
    private static async Task<RunningNode> StartAsync(Action<AkkaConfigurationBuilder, IServiceProvider> configureAkka,
        Action<ILoggingBuilder>? configureLogging, Task<string>? refused, CancellationToken cancellationToken)
    {
        var host = new HostBuilder()
            .ConfigureLogging(logging => configureLogging?.Invoke(logging))
            // The health checks the node registers (Web.NodeHealth) run through the host's HealthCheckService.
            .ConfigureServices(services => services.AddHealthChecks().Services.AddAkka(BankConstants.ActorSystemName, configureAkka))
            .Build();
        try
        {
            try
            {
                await host.StartAsync(cancellationToken);
            }
            catch (Exception) when (StopReasonOf(host) is { } why)
            {
                throw StoppedBeforeJoining(why);
            }

            var node = new RunningNode(host);
            var joinTimeout = node.System.Settings.Config.GetTimeSpan("bank.node.join-timeout", TimeSpan.FromSeconds(30));
            var up = node.System.WhenUpAsync();
            var keptOut = refused ?? new TaskCompletionSource<string>().Task;
            // A node that would form a second cluster on a journal another cluster owns (its lease) stays out.
            var owned = ClusterLease.Get(node.System).Refused;
            Task joined;
            // Ctrl+C or SIGTERM while the node waits to join (a bootstrap node may wait an hour for its peers) stops it.
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, node.Stopping);
            try
            {
                joined = await Task.WhenAny(up, node.System.WhenTerminated, keptOut, owned).WaitAsync(joinTimeout, stopping.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The host is stopping by itself: a SIGTERM, or Akka.Remote shutting the node down after a failed TLS
                // handshake with a seed (the host stops with its actor system). The refusal or the stop reason says which.
                var settled = Task.WhenAny(keptOut, owned, node.System.WhenTerminated);
                if (await Task.WhenAny(settled, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) != settled) throw;
                joined = await settled;
            }
            catch (TimeoutException)
            {
                throw new BankException(ErrorKind.ClusterUnreachable, "JoinTimeout",
                    $"this node did not join its cluster within {joinTimeout.TotalSeconds:0.#} s: is the seed up, and do both use --tls or neither?");
            }

            if (joined == keptOut || joined == owned)
            {
                // Stopped while its loggers still run, so that the channels it closes are join noise, not lines on stdout.
                await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
                // A refused start is exit 1 (a rule of the journal), a TLS mismatch exit 4 (the cluster is out of reach).
                throw joined == owned
                    ? new BankException(ErrorKind.RuleViolation, "JournalOwned", await owned)
                    : new BankException(ErrorKind.ClusterUnreachable, "Tls", await keptOut);
            }
            if (joined != up) throw StoppedBeforeJoining(StopReasonOf(host) ?? "its actor system terminated");
            JoinWatch.MarkJoined(node.System);
            return node;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why the node's actor system is shutting down by itself, or null. Akka.Remote shuts a node down when the TLS
    /// handshake with a peer it dialed fails (another CA's seed, a seed that is no node): that is said at once, in one
    /// line, rather than at the join timeout.
    /// </summary>
    private static string? StopReasonOf(IHost host) =>
        host.Services.GetService<ActorSystem>() is { } system ? CoordinatedShutdown.Get(system).ShutdownReason?.ToString() : null;

    private static InvalidOperationException StoppedBeforeJoining(string why) => new($"the node stopped before joining its cluster: {why}");

    /// <summary>What a node's log leaves out, added to <paramref name="filter"/>.</summary>
    public static Akka.Event.LogFilterBuilder NodeLogFilter(Akka.Event.LogFilterBuilder filter) => filter
        // A crash injected with `bank chaos crash` was asked for: the supervisor notes it at INFO instead.
        .ExcludeMessageContaining(InjectedCrash.Marker)
        // A peer refused at the TLS port is one WARNING line of PeerCertificates (who and why) plus Akka's one line
        // "Rejected incoming connection"; Akka's multi-line report of the same failure lists fixes for this node's own
        // certificate, which is not at fault.
        .ExcludeMessageRegex(TlsHandshakeReport())
        // DotNetty's note on a channel closed while its TLS handshake was pending (a node that stops before it joined),
        // printed on stdout once the loggers have stopped; the node has said why it stopped.
        .ExcludeMessageContaining("Unable to REMOVE channel");
    // Akka.Management's bootstrap probe reports are dropped by FilteringLoggerFactoryLogger: this filter let them through.

    [GeneratedRegex(@"TLS handshake failed \(Server side\)|NotSslRecordException")]
    private static partial Regex TlsHandshakeReport();

    /// <summary>Console logging on stderr, warnings and up, so stdout stays the command's own output.</summary>
    public static void WarningsToStderr(ILoggingBuilder logging) => ToStderr(logging.ClearProviders().AddSimpleConsole(console => console.SingleLine = true));

    /// <summary>As <see cref="WarningsToStderr"/>, one JSON object a line (`--log-format json`), for a log collector.</summary>
    public static void JsonWarningsToStderr(ILoggingBuilder logging) =>
        ToStderr(logging.ClearProviders().AddJsonConsole(console => console.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false }));

    private static void ToStderr(ILoggingBuilder logging) => logging
        .AddFilter(level => level >= LogLevel.Warning)
        // A failed start is reported by the caller in one line, not as the host's stack trace.
        .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None)
        .Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _dataFolderLock?.Dispose();
    }
}
