using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bank.Hosting.Client;
using Bank.Hosting.Dashboard;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests.Dashboard;

/// <summary>A node whose idle accounts passivate after 2 s, so a spec can see whether the dashboard wakes them.</summary>
public sealed class DashboardFixture : BankNodeFixture
{
    protected override string Hocon => base.Hocon + "\nakka.cluster.sharding.passivate-idle-entity-after = 2s";
}

/// <summary>
/// Issue 16: the dashboard on loopback as a newcomer finds it, but read-only (GET only), answering only to its own
/// address (no DNS rebinding), with headers that keep its page from being framed or made to run anything else, never
/// serving plain text beyond loopback, and polling without waking a passivated account.
/// </summary>
public sealed class DashboardSpecs(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private const string Token = "a-dashboard-token-long-enough";

    [Fact]
    public async Task On_loopback_it_needs_nothing_and_serves_the_page_and_the_state()
    {
        await using var dashboard = await StartAsync();
        using var http = new HttpClient();

        Assert.StartsWith("http://127.0.0.1:", dashboard.Url);
        var page = await http.GetAsync(dashboard.Url + "/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Bank dashboard", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dashboard.Url + "/api/state")).StatusCode);
    }

    [Theory]
    [InlineData("POST", "/api/state")]
    [InlineData("PUT", "/api/state")]
    [InlineData("DELETE", "/api/state")]
    [InlineData("PATCH", "/")]
    [InlineData("POST", "/actor/x")]
    [InlineData("OPTIONS", "/")]
    [InlineData("TRACE", "/api/state")]
    [InlineData("POST", "/no/such/page")]
    public async Task Only_GET_is_answered_every_other_method_is_405(string method, string path)
    {
        await using var dashboard = await StartAsync();
        using var http = new HttpClient();

        var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), dashboard.Url + path)
        {
            Content = method is "POST" or "PUT" or "PATCH" ? new StringContent("{}") : null,
        });

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET"], response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("rebound.example")]
    [InlineData("127.0.0.1.rebound.example")]
    [InlineData("10.0.0.1")]
    public async Task A_request_naming_another_host_is_refused_before_any_handler_runs(string host)
    {
        await using var dashboard = await StartAsync();
        using var http = new HttpClient();
        var port = new Uri(dashboard.Url).Port;

        var other = await http.SendAsync(WithHost(dashboard.Url + "/api/state", $"{host}:{port}"));
        var otherPort = await http.SendAsync(WithHost(dashboard.Url + "/api/state", $"127.0.0.1:{port + 1}"));
        var noPort = await http.SendAsync(WithHost(dashboard.Url + "/api/state", "127.0.0.1"));

        Assert.Equal(HttpStatusCode.BadRequest, other.StatusCode);
        Assert.Contains("answers only to its own address", await other.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, otherPort.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noPort.StatusCode);
        foreach (var loopback in new[] { "localhost", "127.0.0.1", "[::1]", "LOCALHOST" })
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(WithHost(dashboard.Url + "/", $"{loopback}:{port}"))).StatusCode);
    }

    [Fact]
    public async Task Every_answer_forbids_framing_sniffing_and_caching_and_the_page_may_run_only_its_own_inline_script()
    {
        await using var dashboard = await StartAsync();
        using var http = new HttpClient();

        var page = await http.GetAsync(dashboard.Url + "/");
        var state = await http.GetAsync(dashboard.Url + "/api/state");

        foreach (var response in new[] { page, state })
        {
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
            Assert.Equal("no-store", Header(response, "Cache-Control"));
        }

        var policy = Header(page, "Content-Security-Policy");
        var html = await page.Content.ReadAsStringAsync();
        Assert.StartsWith("default-src 'none';", policy);
        Assert.Contains($"script-src 'sha256-{InlineHash(html, "script")}';", policy);
        Assert.Contains($"style-src 'sha256-{InlineHash(html, "style")}';", policy);
        Assert.DoesNotContain("unsafe", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
    }

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("bank.example")]
    public async Task Beyond_loopback_without_TLS_it_refuses_to_start_with_one_line_naming_the_fix(string host)
    {
        // 203.0.113.7 is not this machine's: the refusal comes before anything is bound or sent.
        var refused = await Assert.ThrowsAsync<DashboardSetupException>(() =>
            BankDashboard.StartAsync(fixture.Node, new DashboardOptions(host, FreePort.Next())));

        Assert.Contains("--tls DIR", refused.Message);
        Assert.Contains(host, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("fifteen-chars-x")]
    [InlineData("has a space in the middle")]
    public async Task A_token_short_enough_to_guess_is_refused(string token)
    {
        var refused = await Assert.ThrowsAsync<DashboardSetupException>(() =>
            BankDashboard.StartAsync(fixture.Node, new DashboardOptions("127.0.0.1", FreePort.Next()) { Token = token }));

        Assert.Contains(DashboardOptions.TokenVariable, refused.Message);
        Assert.DoesNotContain(token, refused.Message);
    }

    [Fact]
    public async Task With_a_token_a_request_without_it_or_with_another_is_401_and_the_right_one_is_let_in()
    {
        await using var dashboard = await StartAsync(new DashboardOptions("127.0.0.1", FreePort.Next()) { Token = Token });
        using var http = new HttpClient();

        var none = await http.GetAsync(dashboard.Url + "/api/state");
        var wrong = await http.SendAsync(Bearer(dashboard.Url + "/api/state", Token + "x"));
        var prefix = await http.SendAsync(Bearer(dashboard.Url + "/api/state", Token[..^1]));
        var wrongQuery = await http.GetAsync(dashboard.Url + "/?token=" + Token.ToUpperInvariant());
        var right = await http.SendAsync(Bearer(dashboard.Url + "/api/state", Token));

        Assert.All([none, wrong, prefix, wrongQuery], r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.Equal("Bearer", Header(none, "WWW-Authenticate"));
        Assert.DoesNotContain(Token, await wrongQuery.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task A_browser_gives_the_token_once_and_keeps_it_in_a_strict_http_only_cookie()
    {
        await using var dashboard = await StartAsync(new DashboardOptions("127.0.0.1", FreePort.Next()) { Token = Token });
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });

        var signIn = await http.GetAsync(dashboard.Url + "/?token=" + Token);

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"{DashboardOptions.CookieName}=", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dashboard.Url + "/api/state")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dashboard.Url + "/actor/x")).StatusCode);
    }

    [Fact]
    public async Task Polling_the_state_wakes_no_passivated_account_and_shows_its_balance_from_the_state_store()
    {
        await using var session = fixture.Cluster.NewSession();
        var name = $"sleeper-{Guid.NewGuid():N}"[..20];
        var account = await session.OpenAsync(name, new AccountOptions(42m, 0m) { Detached = true });
        await session.DepositAsync(account, 8m);
        await Eventually.ReadsAsync(() => session.ClusterStatusAsync(), status => status.Nodes.All(n => n.Actors == 0),
            "the idle account's instance to be passivated");
        await using var dashboard = await StartAsync();
        using var http = new HttpClient();

        JsonElement shown = default;
        await Eventually.HoldsAsync(async () =>
        {
            shown = await StateOfAsync(http, dashboard, name);
            return shown.GetProperty("balance").ValueKind == JsonValueKind.Number;
        }, "the account's balance in the dashboard's state");
        for (var poll = 0; poll < 5; poll++)
            await StateOfAsync(http, dashboard, name);

        Assert.Equal(50m, shown.GetProperty("balance").GetDecimal());
        Assert.All((await session.ClusterStatusAsync()).Nodes, n => Assert.Equal(0, n.Actors));
        Assert.All((await session.ShardsAsync(Contracts.BankConstants.AccountShardType)).Regions, r => Assert.Equal(0, r.Entities));
    }

    private Task<BankDashboard> StartAsync(DashboardOptions? options = null) =>
        BankDashboard.StartAsync(fixture.Node, options ?? new DashboardOptions("127.0.0.1", FreePort.Next()));

    private static async Task<JsonElement> StateOfAsync(HttpClient http, BankDashboard dashboard, string name)
    {
        using var state = JsonDocument.Parse(await http.GetStringAsync(dashboard.Url + "/api/state"));
        return state.RootElement.GetProperty("actors").EnumerateArray().Single(a => a.GetProperty("name").GetString() == name).Clone();
    }

    private static HttpRequestMessage WithHost(string url, string host) =>
        new(HttpMethod.Get, url) { Headers = { Host = host } };

    private static HttpRequestMessage Bearer(string url, string token) =>
        new(HttpMethod.Get, url) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    private static string InlineHash(string html, string tag)
    {
        var open = html.IndexOf($"<{tag}>", StringComparison.Ordinal) + tag.Length + 2;
        var body = html[open..html.IndexOf($"</{tag}>", StringComparison.Ordinal)];
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
    }
}
