using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Text;
using Bank.Hosting.Web;
using Microsoft.AspNetCore.Http;

namespace Bank.Hosting.Dashboard;

/// <summary>
/// What every request meets before a handler runs (a GET of /health/* only gets the headers: it answers anyone): a Host header naming this dashboard (a page of another site whose
/// name was rebound to this address is refused), GET only (the dashboard changes nothing), the token or a client
/// certificate when the dashboard asks for one, and headers that keep the page from being framed, sniffed or cached.
/// </summary>
internal sealed class DashboardGuard
{
    private readonly HashSet<string> _hosts;
    private readonly byte[]? _tokenHash;
    private readonly Func<HttpContext, bool> _certified;
    private readonly string _contentSecurityPolicy;
    private int _port;

    private DashboardGuard(HashSet<string> hosts, int port, bool requiresAuthentication, string? token, Func<HttpContext, bool> certified,
        string contentSecurityPolicy)
    {
        _hosts = hosts;
        _port = port;
        RequiresAuthentication = requiresAuthentication;
        _tokenHash = token is null ? null : Hash(token);
        _certified = certified;
        _contentSecurityPolicy = contentSecurityPolicy;
    }

    /// <summary>
    /// The guard of a dashboard bound to <paramref name="bound"/>: it answers to the configured host name, the bound
    /// address, the loopback names when it is on loopback, and this machine's names and addresses when it listens on all.
    /// </summary>
    /// <param name="certified">Whether the request came with a client certificate the TLS handshake accepted.</param>
    public static DashboardGuard For(DashboardOptions options, IPAddress bound, Func<HttpContext, bool> certified, string page)
    {
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { HostName(options.Host), HostName(bound.ToString()) };
        if (IPAddress.IsLoopback(bound))
            hosts.UnionWith(["localhost", "127.0.0.1", "[::1]"]);
        if (bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any))
        {
            hosts.Add(Dns.GetHostName());
            hosts.UnionWith(NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => HostName(a.Address.ToString())));
        }

        return new DashboardGuard(hosts, options.Port, options.RequiresAuthentication, options.Token, certified, ContentSecurityPolicy(page));
    }

    /// <summary>The port Kestrel bound, once it has (the options may have asked for any free one).</summary>
    public int Port
    {
        get => Volatile.Read(ref _port);
        set => Volatile.Write(ref _port, value);
    }

    /// <summary>Whether a request needs a client certificate or the token (with TLS, or with a token, on any address).</summary>
    public bool RequiresAuthentication { get; }

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.ContentSecurityPolicy = _contentSecurityPolicy;
        // Balances and addresses are no business of a shared cache, nor of the browser's disk.
        response.Headers.CacheControl = "no-store";

        // Health reveals only live or ready, and a probe names the node as it reaches it (a pod's IP, a balancer's name).
        if (HealthEndpoints.IsHealth(request.Path) && HttpMethods.IsGet(request.Method))
            return next(context);
        if (!KnownHost(request))
            return Refuse(context, StatusCodes.Status400BadRequest, $"this dashboard answers only to its own address, not to host '{request.Host.Host}'");
        if (!HttpMethods.IsGet(request.Method))
        {
            response.Headers.Allow = "GET";
            return Refuse(context, StatusCodes.Status405MethodNotAllowed, "the dashboard is read-only: GET only");
        }

        if (!RequiresAuthentication || _certified(context))
            return next(context);
        if (request.Query.TryGetValue("token", out var given) && given.Count == 1 && Matches(given[0]))
        {
            // Once given, the token lives in a cookie this site alone sees, and leaves the address bar and the history.
            response.Cookies.Append(DashboardOptions.CookieName, given[0]!, new CookieOptions
            {
                HttpOnly = true, Secure = request.IsHttps, SameSite = SameSiteMode.Strict, Path = "/",
            });
            response.Headers.Location = (request.PathBase + request.Path).ToString();
            response.StatusCode = StatusCodes.Status303SeeOther;
            return Task.CompletedTask;
        }

        if (Matches(Bearer(request)) || Matches(request.Cookies[DashboardOptions.CookieName]))
            return next(context);
        response.Headers.WWWAuthenticate = "Bearer";
        return Refuse(context, StatusCodes.Status401Unauthorized,
            $"unauthorized: show a client certificate of the cluster's CA, or open the dashboard once with ?token=TOKEN (the node's {DashboardOptions.TokenVariable}) or send Authorization: Bearer TOKEN");
    }

    private bool KnownHost(HttpRequest request)
    {
        var host = request.Host;
        if (!host.HasValue) return false;
        var port = host.Port ?? (request.IsHttps ? 443 : 80);
        return port == Port && _hosts.Contains(host.Host);
    }

    /// <summary>Compared as SHA-256 digests in constant time: neither the token's length nor its first wrong character shows.</summary>
    private bool Matches(string? given) =>
        given is not null && _tokenHash is not null && CryptographicOperations.FixedTimeEquals(Hash(given), _tokenHash);

    private static string? Bearer(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header["Bearer ".Length..].Trim()
            : null;

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    private static Task Refuse(HttpContext context, int status, string why)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(why + "\n");
    }

    /// <summary>An address as a Host header carries it: IPv6 in brackets.</summary>
    public static string HostName(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{ip}]"
            : host;

    /// <summary>
    /// Nothing loads but the page's own inline script and style (pinned by their SHA-256) and its calls to this origin:
    /// markup injected into a cell could run nothing.
    /// </summary>
    private static string ContentSecurityPolicy(string page) =>
        $"default-src 'none'; script-src 'sha256-{InlineHash(page, "script")}'; style-src 'sha256-{InlineHash(page, "style")}'; " +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static string InlineHash(string page, string tag)
    {
        var open = page.IndexOf($"<{tag}>", StringComparison.Ordinal);
        var close = page.IndexOf($"</{tag}>", StringComparison.Ordinal);
        if (open < 0 || close < open)
            throw new InvalidOperationException($"the dashboard page has no inline <{tag}>");
        var body = page[(open + tag.Length + 2)..close];
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
    }
}
