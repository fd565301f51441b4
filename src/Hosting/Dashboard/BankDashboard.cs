using System.Net;
using System.Text.Json;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Metrics;
using Bank.Hosting.Security;
using Bank.Hosting.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bank.Hosting.Dashboard;

/// <summary>
/// A node's HTTP port, on ASP.NET Core's own Kestrel: <c>/health/live</c> and <c>/health/ready</c> (<see cref="HealthEndpoints"/>),
/// and, unless <see cref="DashboardOptions.Pages"/> is off, the web dashboard: the nodes with their roles, machines and shards,
/// the actors with state, restarts, node, detached and balance (the page polls every second), an actor's event history,
/// and a chart of persisted account operations per second. Every asset is served by the node itself. It changes nothing,
/// and every request meets <see cref="DashboardGuard"/> first; who may read it is <see cref="DashboardOptions"/>'s to say.
/// </summary>
public sealed class BankDashboard : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly WebApplication _app;
    private readonly OperationsCounter _operations;
    private readonly MetricsReader _metrics;

    private BankDashboard(WebApplication app, OperationsCounter operations, MetricsReader metrics, string url)
    {
        _app = app;
        _operations = operations;
        _metrics = metrics;
        Url = url;
    }

    /// <summary>The port's address, e.g. http://127.0.0.1:8265 (https with TLS): the dashboard's page when it serves one.</summary>
    public string Url { get; }

    /// <summary>
    /// Starts Kestrel on the node's behalf; a port that is taken fails here, before anything is served. An unsafe
    /// configuration (see <see cref="DashboardOptions.EnsureSafe"/>) is refused before anything is bound.
    /// </summary>
    public static async Task<BankDashboard> StartAsync(RunningNode node, DashboardOptions options, CancellationToken cancellationToken = default)
    {
        options.EnsureSafe();
        var bound = await BindAddressAsync(options.Host, cancellationToken);
        var page = Page();
        var guard = DashboardGuard.For(options, bound, context => Certified(context, options.Tls), page);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddBankTelemetry(builder.Configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(bound, options.Port, listen =>
            {
                if (options.Tls is { } tls) listen.UseHttps(Https(tls));
            });
        });
        var app = builder.Build();
        var operations = new OperationsCounter(node.System);
        var metrics = new MetricsReader();

        app.Use(guard.InvokeAsync);
        app.MapBankHealth(node.Health);
        // The meter's figures for Prometheus, behind the guard (they show the cluster's shape), with or without the pages.
        app.MapBankMetrics();
        if (options.Pages) MapPages(app, node, operations, metrics, page);

        await app.StartAsync(cancellationToken);
        guard.Port = BoundPort(app, options.Port);
        if (options.Pages) operations.Start();
        var scheme = options.Tls is null ? "http" : "https";
        return new BankDashboard(app, operations, metrics, $"{scheme}://{DashboardGuard.HostName(options.Host)}:{guard.Port}");
    }

    private static void MapPages(WebApplication app, RunningNode node, OperationsCounter operations, MetricsReader metrics, string page)
    {
        var timeout = TimeSpan.FromSeconds(5);
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/actor/{name}", (string name) => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/api/state", async (CancellationToken ct) =>
            Results.Json(await DashboardState.ReadAsync(node, operations, metrics, timeout, ct), Json));
        app.MapGet("/api/actors/{name}/history", async (string name, CancellationToken ct) =>
        {
            await using var session = new BankSession(node.Gateway);
            try
            {
                var history = await session.HistoryAsync(name, ct);
                return Results.Json(new
                {
                    history.Name,
                    history.Key,
                    Events = history.Events.Select(e => new { e.Seq, e.Type, e.Amount, e.Balance, At = e.At.ToString("O"), e.RequestId }),
                }, Json);
            }
            catch (BankException e)
            {
                return Results.Json(new { Error = new { Kind = e.Kind.ToString(), e.Message } }, Json,
                    statusCode: e.Kind == ErrorKind.ActorNotFound ? 404 : 503);
            }
        });
    }

    /// <summary>
    /// HTTPS with the node's certificate. A browser may show a client certificate: one of the cluster's CA with role client
    /// or admin is accepted, any other fails the handshake; none at all leaves the token to prove who asks.
    /// </summary>
    private static HttpsConnectionAdapterOptions Https(TlsIdentity tls) => new()
    {
        ServerCertificate = tls.Certificate,
        SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
        CheckCertificateRevocation = false,
        // The chain and errors given here come from the machine's trust store; ours is rebuilt from the cluster's CA alone.
        ClientCertificateValidation = (certificate, _, _) => PeerCertificates.IsAccepted(certificate, tls.Authority, Readers, out _),
    };

    /// <summary>The roles that may read the dashboard: every caller of the cluster, never a node's certificate.</summary>
    private static readonly BankRole[] Readers = [BankRole.Client, BankRole.Admin];

    /// <summary>
    /// Whether the request's connection showed a client certificate: the handshake lets one through only when it is of
    /// the cluster's CA with role client or admin (<see cref="Https"/>).
    /// </summary>
    private static bool Certified(HttpContext context, TlsIdentity? tls) =>
        tls is not null && context.Connection.ClientCertificate is not null;

    /// <summary>The address to bind: an IP as given, "localhost" as 127.0.0.1, any other name as it resolves.</summary>
    private static async Task<IPAddress> BindAddressAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) return ip;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            return addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.First();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new DashboardSetupException($"the dashboard host {host} does not resolve to an address of this machine");
        }
    }

    /// <summary>The port Kestrel listens on: the one asked for, or the one it picked for port 0.</summary>
    private static int BoundPort(WebApplication app, int asked) =>
        asked != 0
            ? asked
            : app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                .Select(a => new Uri(a).Port).FirstOrDefault() ?? asked;

    private static string Page()
    {
        using var stream = typeof(BankDashboard).Assembly.GetManifestResourceStream("Bank.Hosting.Dashboard.dashboard.html")
                           ?? throw new InvalidOperationException("the dashboard page is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await _operations.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _metrics.Dispose();
    }
}
