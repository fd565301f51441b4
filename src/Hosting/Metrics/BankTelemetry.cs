using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Bank.Hosting.Metrics;

/// <summary>
/// Exports <see cref="BankMetrics"/> with OpenTelemetry: a Prometheus scrape endpoint on the node's HTTP port, and OTLP
/// only when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c> names a
/// collector (nothing is sent anywhere by default); the exporter reads the other <c>OTEL_*</c> variables itself.
/// </summary>
public static class BankTelemetry
{
    /// <summary>Where <see cref="MapBankMetrics"/> serves the scrape.</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>The standard variables that name an OTLP collector; without one of them nothing is exported by OTLP.</summary>
    public static readonly string[] OtlpEndpointVariables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"];

    /// <summary>The meter <c>Bank</c> into OpenTelemetry, for the scrape and, if configured, OTLP.</summary>
    /// <param name="configuration">Where the <c>OTEL_*</c> variables are read (a host's configuration includes the environment).</param>
    public static IServiceCollection AddBankTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        // The instruments exist once the holder is loaded: a scrape before the first call still lists the gauges.
        _ = BankMetrics.Meter;
        var otlp = OtlpConfigured(configuration);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("bank", serviceVersion: typeof(BankMetrics).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(BankMetrics.MeterName).AddPrometheusExporter();
                if (otlp) metrics.AddOtlpExporter(options => MetricsSignal(options, configuration));
            });
        return services;
    }

    /// <summary>
    /// The metrics-only variables, which the exporter reads only when it is set up for every signal at once: the endpoint
    /// is taken as given (with its path, /v1/metrics over HTTP), as the specification says of a signal's own endpoint.
    /// </summary>
    private static void MetricsSignal(OtlpExporterOptions options, IConfiguration configuration)
    {
        if (configuration["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"] is { Length: > 0 } protocol)
            options.Protocol = protocol.Trim() == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        if (configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] is { Length: > 0 } endpoint) options.Endpoint = new Uri(endpoint.Trim());
    }

    /// <summary>Whether <paramref name="configuration"/> names an OTLP collector for metrics.</summary>
    public static bool OtlpConfigured(IConfiguration configuration) =>
        OtlpEndpointVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name]));

    /// <summary>The Prometheus scrape endpoint, <c>GET /metrics</c>, on the app's own port (behind its own guard).</summary>
    public static IEndpointConventionBuilder MapBankMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(ScrapePath);

    /// <summary>The node's gauges that need an actor: the ClusterClients its receptionist knows.</summary>
    public static AkkaConfigurationBuilder WithBankMetrics(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, _) =>
            system.ActorOf(ClientSessions.PropsFor(ClusterClientReceptionist.Get(system).Underlying), "client-sessions"));
}
