using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Bank.Hosting.Dashboard;
using Bank.Hosting.Security;
using Bank.Hosting.Tests.Security;
using Xunit;

namespace Bank.Hosting.Tests.Dashboard;

/// <summary>
/// Issue 16: with the node's certificate the dashboard is HTTPS (here on loopback, where the same rules hold as beyond
/// it) and lets in only a request with the token or a client certificate of the cluster's CA (role client or admin).
/// Every client here checks the dashboard's certificate against the test CA, as a browser that imported ca.crt does.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class DashboardTlsSpecs(DashboardFixture fixture, IssuedCertificates issued)
    : IClassFixture<DashboardFixture>, IClassFixture<IssuedCertificates>
{
    private const string Token = "a-dashboard-token-long-enough";

    [Fact]
    public async Task With_TLS_it_serves_HTTPS_and_a_request_without_the_token_or_with_another_is_401()
    {
        await using var dashboard = await StartAsync();
        using var http = Client();

        var none = await http.GetAsync(dashboard.Url + "/api/state");
        var page = await http.GetAsync(dashboard.Url + "/");
        var wrong = await http.SendAsync(Bearer(dashboard.Url + "/api/state", "another-token-long-enough"));
        var right = await http.SendAsync(Bearer(dashboard.Url + "/api/state", Token));

        Assert.StartsWith("https://127.0.0.1:", dashboard.Url);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("\"nodes\"", await right.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_a_token_configured_a_request_without_a_client_certificate_is_still_401()
    {
        await using var dashboard = await StartAsync(token: null);
        using var http = Client();

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(dashboard.Url + "/api/state")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(dashboard.Url + "/?token=")).StatusCode);
    }

    [Fact]
    public async Task Over_HTTPS_the_token_given_once_is_kept_in_a_Secure_strict_HttpOnly_cookie()
    {
        await using var dashboard = await StartAsync();
        var cookies = new CookieContainer();
        using var http = Client(cookies: cookies);

        var signIn = await http.GetAsync(dashboard.Url + "/?token=" + Token);

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie")).ToLowerInvariant();
        Assert.Contains("; secure", cookie);
        Assert.Contains("; httponly", cookie);
        Assert.Contains("; samesite=strict", cookie);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dashboard.Url + "/api/state")).StatusCode);
    }

    [Fact]
    public async Task Plain_HTTP_to_the_TLS_dashboard_gets_nothing_from_it()
    {
        await using var dashboard = await StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var plain = dashboard.Url.Replace("https://", "http://", StringComparison.Ordinal) + "/api/state";

        // Kestrel drops a connection whose first bytes are no TLS handshake: nothing is served, not even an error page.
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(plain));
    }

    [Theory]
    [InlineData("client")]
    [InlineData("admin")]
    public async Task A_client_or_admin_certificate_of_the_clusters_CA_is_let_in_without_a_token(string role)
    {
        await using var dashboard = await StartAsync();
        using var http = Client(TlsIdentity.Load(role == "client" ? issued.Client : issued.Admin).Certificate);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dashboard.Url + "/api/state")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dashboard.Url + "/")).StatusCode);
    }

    [Theory]
    [InlineData("another CA's client")]
    [InlineData("a node's")]
    public async Task A_certificate_of_another_CA_or_a_nodes_certificate_fails_the_handshake(string whose)
    {
        await using var dashboard = await StartAsync();
        var certificate = whose == "a node's"
            ? TlsIdentity.Load(issued.Node).Certificate
            : LoadLeaf(issued.OtherClient);
        using var http = Client(certificate);

        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(dashboard.Url + "/api/state"));
    }

    [Fact]
    public async Task Over_HTTPS_a_signed_in_request_naming_another_host_or_another_method_is_still_refused()
    {
        await using var dashboard = await StartAsync();
        using var http = Client(TlsIdentity.Load(issued.Client).Certificate);
        var port = new Uri(dashboard.Url).Port;

        var rebound = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, dashboard.Url + "/api/state") { Headers = { Host = $"rebound.example:{port}" } });
        var post = await http.PostAsync(dashboard.Url + "/api/state", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, rebound.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public void With_the_nodes_certificate_an_address_beyond_loopback_is_allowed_and_with_a_client_certificate_it_is_not()
    {
        // Checked without binding: 203.0.113.7 is not this machine's.
        new DashboardOptions("203.0.113.7", 8265) { Tls = TlsIdentity.Load(issued.Node) }.EnsureSafe();
        new DashboardOptions("0.0.0.0", 8265) { Tls = TlsIdentity.Load(issued.Node), Token = Token }.EnsureSafe();

        var refused = Assert.Throws<DashboardSetupException>(() =>
            new DashboardOptions("203.0.113.7", 8265) { Tls = TlsIdentity.Load(issued.Client) }.EnsureSafe());
        Assert.Contains("role node", refused.Message);
    }

    private Task<BankDashboard> StartAsync(string? token = Token) =>
        BankDashboard.StartAsync(fixture.Node, new DashboardOptions("127.0.0.1", FreePort.Next())
        {
            Tls = TlsIdentity.Load(issued.Node),
            Token = token,
        });

    /// <summary>An HTTPS client that trusts only the test CA's node certificates, showing <paramref name="certificate"/> if given.</summary>
    private HttpClient Client(X509Certificate2? certificate = null, CookieContainer? cookies = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, server, _, _) =>
                    server is X509Certificate2 presented && PeerCertificates.IsAccepted(presented, issued.Authority, [BankRole.Node], out _),
                ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
    }

    private static X509Certificate2 LoadLeaf(string folder) =>
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(folder, CertificateAuthority.CertificateFile), null, X509KeyStorageFlags.EphemeralKeySet);

    private static HttpRequestMessage Bearer(string url, string token) =>
        new(HttpMethod.Get, url) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
}
