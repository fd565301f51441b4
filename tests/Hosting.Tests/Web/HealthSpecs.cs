using System.Net;
using System.Text.Json;
using Akka.Cluster;
using Bank.Hosting.Dashboard;
using Bank.Hosting.Tests.Support;
using Bank.Hosting.Web;
using Bank.Testing;
using Xunit;

namespace Bank.Hosting.Tests.Web;

/// <summary>
/// Issue 18 point 3: a node's /health/live and /health/ready. Ready only while the node is Up and its journal answers:
/// 503 with a JSON body naming the failed check while its PostgreSQL is stopped, 200 again once it is back. Health
/// answers without the dashboard's token and to whatever host a probe names; the rest of the port keeps its guard.
/// </summary>
public sealed class HealthSpecs(BankNodeFixture fixture) : IClassFixture<BankNodeFixture>
{
    private const string Token = "a-dashboard-token-long-enough";

    [Fact]
    public async Task A_node_up_with_its_journal_answering_is_live_and_ready()
    {
        await using var web = await BankDashboard.StartAsync(fixture.Node, new DashboardOptions("127.0.0.1", FreePort.Next()) { Pages = false });
        using var http = new HttpClient();

        var live = await ReadAsync(http, web.Url + HealthEndpoints.LivePath);
        var ready = await ReadAsync(http, web.Url + HealthEndpoints.ReadyPath);

        Assert.Equal(HttpStatusCode.OK, live.Status);
        Assert.Equal("healthy", live.Body.GetProperty("status").GetString());
        Assert.Equal("healthy", live.Body.GetProperty("checks").GetProperty(NodeHealth.ActorSystemCheck).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Empty(ready.Body.GetProperty("failed").EnumerateArray());
        Assert.Equal("healthy", ready.Body.GetProperty("checks").GetProperty(NodeHealth.ClusterCheck).GetProperty("status").GetString());
        Assert.Equal("healthy", ready.Body.GetProperty("checks").GetProperty(NodeHealth.JournalCheck).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_answers_without_the_token_and_to_any_host_while_the_dashboard_keeps_its_guard()
    {
        await using var web = await BankDashboard.StartAsync(fixture.Node, new DashboardOptions("127.0.0.1", FreePort.Next()) { Token = Token });
        using var http = new HttpClient();
        var port = new Uri(web.Url).Port;

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(web.Url + HealthEndpoints.ReadyPath)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(WithHost(web.Url + HealthEndpoints.LivePath, $"10.0.0.7:{port}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(web.Url + "/api/state")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(WithHost(web.Url + "/api/state", $"10.0.0.7:{port}"))).StatusCode);
        var post = await http.PostAsync(web.Url + HealthEndpoints.ReadyPath, new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task Without_the_dashboard_the_port_serves_health_only()
    {
        await using var web = await BankDashboard.StartAsync(fixture.Node, new DashboardOptions("127.0.0.1", FreePort.Next()) { Pages = false });
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(web.Url + "/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(web.Url + "/api/state")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(web.Url + HealthEndpoints.LivePath)).StatusCode);
    }

    [SkippableFact]
    public async Task Ready_turns_503_naming_the_journal_while_PostgreSQL_is_stopped_and_200_again_after_and_the_cluster_once_the_node_leaves()
    {
        using var postgres = await OwnPostgres.StartAsync();
        var node = await RunningNode.StartAsync(new BankNodeOptions { Port = 0, Persistence = BankPersistenceOptions.Postgres(postgres.ConnectionString) });
        try
        {
            await using var web = await BankDashboard.StartAsync(node, new DashboardOptions("127.0.0.1", 0) { Pages = false });
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var ready = web.Url + HealthEndpoints.ReadyPath;
            Assert.Equal(HttpStatusCode.OK, (await ReadAsync(http, ready)).Status);

            postgres.Stop();
            var down = await Eventually.ReadsAsync(() => ReadAsync(http, ready), answer => answer.Status == HttpStatusCode.ServiceUnavailable,
                "/health/ready to answer 503 with PostgreSQL stopped", show: answer => $"{answer.Status} {answer.Body}");
            Assert.Equal(["journal"], down.Body.GetProperty("failed").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("unhealthy", down.Body.GetProperty("status").GetString());
            var journal = down.Body.GetProperty("checks").GetProperty(NodeHealth.JournalCheck);
            Assert.Equal("unhealthy", journal.GetProperty("status").GetString());
            Assert.StartsWith("the journal ", journal.GetProperty("description").GetString());
            Assert.Equal(HttpStatusCode.OK, (await ReadAsync(http, web.Url + HealthEndpoints.LivePath)).Status);

            postgres.Start();
            await Eventually.ReadsAsync(() => ReadAsync(http, ready), answer => answer.Status == HttpStatusCode.OK,
                "/health/ready to answer 200 once PostgreSQL is back", show: answer => $"{answer.Status} {answer.Body}");

            await Cluster.Get(node.System).LeaveAsync();
            var left = await Eventually.ReadsAsync(() => ReadAsync(http, ready), answer => answer.Status == HttpStatusCode.ServiceUnavailable,
                "/health/ready to answer 503 once the node has left", show: answer => $"{answer.Status} {answer.Body}");
            Assert.True(left.Body.GetProperty("failed").EnumerateArray().Any(e => e.GetString() == NodeHealth.ClusterCheck),
                $"the cluster check should fail once the node has left: {left.Body}");
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    private static HttpRequestMessage WithHost(string url, string host) =>
        new(HttpMethod.Get, url) { Headers = { Host = host } };
}
