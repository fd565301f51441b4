using Bank.Hosting;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank start` refuses plain text beyond loopback (DESIGN.md section 8): a node on another address needs `--tls DIR`,
/// or `--insecure` to accept plain text knowingly; the HTTP port (dashboard, health, metrics) on another address needs TLS,
/// whatever `--insecure` says.
/// </summary>
public static class SecureByDefault
{
    /// <param name="hostname">The address the node binds and advertises.</param>
    /// <param name="dashboardHost">The HTTP port's address (`--http-host`); null when the node serves none.</param>
    /// <param name="tls">The `--tls` folder (or $BANK__TLS); null or blank when none was given.</param>
    /// <param name="insecure">`--insecure` was given.</param>
    /// <returns>Null when the node may start; else the one line that refuses it and names the fix.</returns>
    public static string? Refusal(string hostname, string? dashboardHost, string? tls, bool insecure)
    {
        var hasTls = !string.IsNullOrWhiteSpace(tls);
        if (!hasTls && !insecure && !Loopback.Is(hostname))
            return $"refusing to listen on {Bank.Domain.TextEcho.OneLine(hostname)} in plain text: give --tls DIR (see `bank cert init`) " +
                   "or --insecure to accept plain text knowingly";
        if (!hasTls && dashboardHost is not null && !Loopback.Is(dashboardHost))
            return $"refusing to serve the dashboard on {Bank.Domain.TextEcho.OneLine(dashboardHost)} in plain text: give --tls DIR " +
                   "(see `bank cert init`) or keep it on loopback with --http-host 127.0.0.1";
        return null;
    }
}
