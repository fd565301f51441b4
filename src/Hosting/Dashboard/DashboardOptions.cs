using System.Net;
using Bank.Hosting.Security;

namespace Bank.Hosting.Dashboard;

/// <summary>
/// Where the dashboard listens and who may read it. By default 127.0.0.1:8265 in plain HTTP, open to whoever shares the
/// machine, as Ray's is. With <see cref="Tls"/> (the node's certificate) it is HTTPS on whatever address, and every
/// request proves itself: a client certificate of the cluster's CA (role client or admin) or the dashboard token. Any
/// other address than loopback needs TLS (see <see cref="EnsureSafe"/>): the dashboard never serves plain text beyond
/// loopback, whatever else is configured.
/// </summary>
public sealed record DashboardOptions(string Host = "127.0.0.1", int Port = DashboardOptions.DefaultPort)
{
    public const int DefaultPort = 8265;

    /// <summary>The environment variable holding the dashboard token (or, with <c>_FILE</c>, naming a file that holds it).</summary>
    public const string TokenVariable = "BANK__DASHBOARD_TOKEN";

    /// <summary>The cookie that keeps a browser signed in after it gave <c>?token=</c> once.</summary>
    public const string CookieName = "bank_dashboard";

    /// <summary>A shorter token is refused: it would be guessed.</summary>
    public const int MinimumTokenLength = 16;

    private const int MaximumTokenLength = 1024;

    /// <summary>Whether the port serves the dashboard's pages and API; off (`--no-dashboard`), it serves health (and metrics) only.</summary>
    public bool Pages { get; init; } = true;

    /// <summary>The node's certificate (role node): HTTPS, and a client certificate of its CA or the token for every request.</summary>
    public TlsIdentity? Tls { get; init; }

    /// <summary>
    /// The secret a browser gives once as <c>?token=</c> (kept in a cookie) or a program as <c>Authorization: Bearer</c>;
    /// null: no token (then, with TLS, only a client certificate of the cluster's CA is let in).
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Whether <see cref="Host"/> is this machine's loopback (127.0.0.0/8, ::1 or "localhost").</summary>
    public bool OnLoopback => IsLoopback(Host);

    /// <summary>Whether every request must show a token or a client certificate.</summary>
    public bool RequiresAuthentication => Tls is not null || Token is not null;

    /// <summary>
    /// Throws <see cref="DashboardSetupException"/> (one line naming the fix) for a dashboard that would be unsafe: plain
    /// text beyond loopback, a certificate that is not a node's, or a token short enough to guess.
    /// </summary>
    public void EnsureSafe()
    {
        if (Port is < 0 or > IPEndPoint.MaxPort)
            throw new DashboardSetupException($"the dashboard port must be 0 to {IPEndPoint.MaxPort}, not {Port}");
        if (Tls is { Role: not BankRole.Node } other)
            throw new DashboardSetupException($"the dashboard serves with the node's certificate (role node), not a {other.Role.Text()} one");
        if (!OnLoopback && Tls is null)
            throw new DashboardSetupException(
                $"refusing to serve the dashboard on {Host} in plain text: give the node --tls DIR (see `bank cert init`), or keep it on 127.0.0.1");
        if (Token is { } token && (token.Length < MinimumTokenLength || token.Length > MaximumTokenLength || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
            throw new DashboardSetupException(
                $"the dashboard token ({TokenVariable}) must be {MinimumTokenLength} to {MaximumTokenLength} characters without spaces, e.g. the output of `head -c 24 /dev/urandom | base64 | tr '+/' '-_'`");
    }

    /// <summary>127.0.0.0/8, ::1 and "localhost" are loopback; every other address or name, 0.0.0.0 and :: included, is not.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}

/// <summary>A dashboard that would be unsafe to serve, refused before it binds anything; the message is one line.</summary>
public sealed class DashboardSetupException(string message) : Exception(message);
