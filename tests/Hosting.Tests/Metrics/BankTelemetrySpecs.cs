using System.Net;
using System.Net.Sockets;
using Bank.Hosting.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Xunit;

namespace Bank.Hosting.Tests.Metrics;

/// <summary>
/// Issue 18: OTLP is the operator's choice, made with the standard OTEL_* variables: without them a node sends its
/// metrics nowhere; with them, to the collector they name. A listener on loopback stands for the collector.
/// </summary>
public sealed class BankTelemetrySpecs
{
    [SkippableFact]
    public async Task Without_an_OTLP_endpoint_nothing_is_sent_even_to_the_default_collector_port()
    {
        // 4317 is where an OTLP exporter sends by default (gRPC on localhost).
        using var collector = Collector(4317);
        Skip.If(collector is null, "port 4317 is taken on this machine: nothing to listen with");

        using var services = Telemetry(new Dictionary<string, string?>());
        BankMetrics.Calls.Add(1, new KeyValuePair<string, object?>("kind", "spec"), new KeyValuePair<string, object?>("outcome", "ok"));
        services.GetRequiredService<MeterProvider>().ForceFlush(2_000);

        var accepted = collector!.AcceptTcpClientAsync();
        Assert.NotSame(accepted, await Task.WhenAny(accepted, Task.Delay(TimeSpan.FromSeconds(1))));
        Assert.False(BankTelemetry.OtlpConfigured(new ConfigurationBuilder().Build()));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")]
    public async Task With_an_OTLP_endpoint_the_metrics_go_to_the_collector_it_names(string variable)
    {
        using var collector = Collector(0)!;
        var port = ((IPEndPoint)collector.LocalEndpoint).Port;
        var endpoint = variable == "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" ? $"http://127.0.0.1:{port}/v1/metrics" : $"http://127.0.0.1:{port}";
        using var services = Telemetry(new Dictionary<string, string?>
        {
            [variable] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        BankMetrics.Calls.Add(1, new KeyValuePair<string, object?>("kind", "spec"), new KeyValuePair<string, object?>("outcome", "ok"));

        var accepted = collector.AcceptTcpClientAsync();
        _ = Task.Run(() => services.GetRequiredService<MeterProvider>().ForceFlush(5_000));
        Assert.Same(accepted, await Task.WhenAny(accepted, Task.Delay(TimeSpan.FromSeconds(20))));
        (await accepted).Dispose();
    }

    private static ServiceProvider Telemetry(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddBankTelemetry(configuration);
        return services.BuildServiceProvider();
    }

    private static TcpListener? Collector(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return listener;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
