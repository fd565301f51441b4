using System.CommandLine;
using Bank.Hosting;
using Bank.Hosting.Dashboard;
using Bank.Hosting.Security;
using Bank.Hosting.Web;

namespace Bank.Nodes.Cli;

/// <summary>
/// Every node's HTTP port (Kestrel): <c>/health/live</c> and <c>/health/ready</c> always, the dashboard unless
/// <c>--no-dashboard</c>. The head keeps the dashboard's well-known port 8265; a worker, or a head without a dashboard,
/// takes any free port unless <c>--http-port</c> names one. The port binds 127.0.0.1 unless <c>--http-host</c> says otherwise,
/// which needs TLS (<see cref="SecureByDefault"/>).
/// </summary>
public sealed partial class StartCommand
{
    private static readonly Option<string?> HttpPort = new("--http-port", "--dashboard-port")
    {
        HelpName = "PORT",
        Description = $"The node's HTTP port: dashboard, {HealthEndpoints.LivePath}, {HealthEndpoints.ReadyPath} (default {DashboardOptions.DefaultPort} for " +
                      "the head, any free one for a worker or with --no-dashboard; 0: any free one).",
    };

    private static readonly Option<string?> HttpHost = new("--http-host", "--dashboard-host")
    {
        HelpName = "HOST", Description = "The HTTP port's address (default 127.0.0.1; beyond loopback it needs --tls DIR).",
    };

    private static readonly Option<bool> NoDashboard = new("--no-dashboard")
    {
        Description = "Serve no dashboard: the HTTP port answers health only.",
    };

    /// <summary>The HTTP port's options from the command line, before TLS and the token are added (<see cref="Secured"/>).</summary>
    /// <param name="defaultPort">The port when --http-port is not given.</param>
    private static DashboardOptions HttpOptions(ParseResult parsed, int defaultPort)
    {
        var pages = !parsed.GetValue(NoDashboard);
        var port = ParsePort(parsed.GetValue(HttpPort), pages ? defaultPort : 0, Typed(parsed, HttpPort));
        return new DashboardOptions(parsed.GetValue(HttpHost) ?? "127.0.0.1", port) { Pages = pages };
    }

    /// <summary>
    /// Starts the node's HTTP port. A head on the default port that another process holds runs without one rather than not
    /// at all (one warning line); a port the command line named is checked before the node starts.
    /// </summary>
    private static async Task<BankDashboard?> StartHttpAsync(RunningNode node, DashboardOptions options, ParseResult parsed)
    {
        try
        {
            return await BankDashboard.StartAsync(node, options, node.Stopping);
        }
        catch (IOException taken) when (!parsed.Has(HttpPort))
        {
            await Console.Error.WriteLineAsync(
                $"warning: no HTTP port (dashboard, health): port {options.Port} is in use ({taken.Message}); pick one with --http-port");
            return null;
        }
    }

    /// <summary>The option's name as the command line gave it (an alias, such as --dashboard-port, or its own name).</summary>
    private static string Typed(ParseResult parsed, Option option) =>
        parsed.GetResult(option)?.IdentifierToken?.Value ?? option.Name;
}
