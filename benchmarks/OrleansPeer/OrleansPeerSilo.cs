using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bank.Benchmarks.OrleansPeer;

/// <summary>
/// A one-silo Orleans cluster in this process, on loopback ports of its own, with its memory grain storage and the
/// client co-hosted (the grain factory of the silo's host, as Orleans' documentation writes a co-hosted client).
/// </summary>
public sealed class OrleansPeerSilo : IAsyncDisposable
{
    /// <summary>The grain storage the accounts keep their state in.</summary>
    public const string StorageName = "accounts";

    private readonly IHost host;

    private OrleansPeerSilo(IHost host) => this.host = host;

    public IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Orleans' package version, as its assemblies carry it ("10.4.2. Commit Hash: ..." gives 10.4.2).</summary>
    public static string Version =>
        typeof(IGrainFactory).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split([' ', '+'])[0].TrimEnd('.') ?? "?";

    /// <summary>Starts the silo; its warnings go to <paramref name="log"/> (stderr), so stdout keeps only the figures.</summary>
    public static async Task<OrleansPeerSilo> StartAsync(TextWriter log, CancellationToken cancellationToken)
    {
        // No defaults: the benchmark's own arguments and environment must not configure the silo.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddProvider(new WriterLoggerProvider(log));
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: FreeLoopbackPort(), gatewayPort: FreeLoopbackPort())
            .AddMemoryGrainStorage(StorageName));
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new OrleansPeerSilo(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await host.StopAsync(stopping.Token);
        }
        finally
        {
            host.Dispose();
        }
    }

    /// <summary>A port nothing listens on now, so that two runs (a test beside a benchmark) do not collide.</summary>
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>One line per log entry on a writer: the console logger would need its own thread and stdout.</summary>
    private sealed class WriterLoggerProvider(TextWriter writer) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || BeforeThisProcess(state)) return;
            lock (writer) writer.WriteLine($"orleans {logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}");
        }

        public void Dispose()
        {
        }

        /// <summary>
        /// The silo's watchdog warns at its first check that a check has "not completed for" longer than this process
        /// has run (it counts from before the silo's start): that one is noise; a real stall is shorter and still shown.
        /// </summary>
        private static bool BeforeThisProcess<TState>(TState state) =>
            state is IReadOnlyList<KeyValuePair<string, object?>> values
            && values.Any(v => v is { Key: "TimeSinceLastTick", Value: TimeSpan since } && since > DateTime.Now - Process.GetCurrentProcess().StartTime);
    }
}
