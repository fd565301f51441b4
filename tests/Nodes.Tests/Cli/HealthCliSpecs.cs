using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bank.Nodes.Cli;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 18 points 3 and 6 with real processes: every node, head and worker, serves /health/live and /health/ready on an
/// HTTP port of its own on loopback; an HTTP host beyond loopback without TLS is refused before anything is sent
/// (203.0.113.7 is a documentation address this machine does not have). The cluster spec needs BANK_TEST_POSTGRES.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class HealthCliSpecs(ITestOutputHelper output)
{
    private const string Beyond = "203.0.113.7";

    [SkippableFact]
    public async Task A_head_and_a_worker_each_answer_live_and_ready_with_200_on_their_own_http_port()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var (headPort, headHttp) = (FreePort.Next(), FreePort.Next());
        await using var head = await BankProcess.StartNodeAsync($"head on port {headPort}",
            "start", "--head", "--port", headPort.ToString(), "--http-port", headHttp.ToString(), "--journal", "postgres",
            "--connection", database.ConnectionString);
        await using var worker = await BankProcess.StartNodeAsync("worker",
            "start", "--address", head.Address, "--port", "0", "--journal", "postgres", "--connection", database.ConnectionString);

        var headUrl = await HttpUrlAsync(head);
        var workerUrl = await HttpUrlAsync(worker);
        output.WriteLine($"head: {headUrl}; worker: {workerUrl}");
        Assert.Equal($"http://127.0.0.1:{headHttp}", headUrl);
        Assert.StartsWith("http://127.0.0.1:", workerUrl);
        Assert.NotEqual(headUrl, workerUrl);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        foreach (var url in new[] { headUrl, workerUrl })
        {
            await AssertHealthyAsync(http, url + "/health/live");
            await AssertHealthyAsync(http, url + "/health/ready");
        }
    }

    [Theory]
    [InlineData("--head")]
    [InlineData("--address", "127.0.0.1:4053")]
    public async Task An_http_host_beyond_loopback_without_tls_is_refused_in_one_line_with_exit_2(params string[] role)
    {
        using var data = new TempDataDirectory();

        var result = await BankProcess.RunAsync(TimeSpan.FromSeconds(60),
            ["start", .. role, "--http-host", Beyond, "--insecure", "--port", "0", "--data", data.Path]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Equal($"error: refusing to serve the dashboard on {Beyond} in plain text: give --tls DIR (see `bank cert init`) or keep it on loopback with --http-host 127.0.0.1",
            Assert.Single(result.ErrorLines));
        Assert.Empty(result.Stdout);
        Assert.False(Directory.Exists(data.Path), "a refused start prepares nothing");
    }

    private static async Task AssertHealthyAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
    }

    /// <summary>The node's HTTP address, from its "Health: URL/health/live and ..." line.</summary>
    private static async Task<string> HttpUrlAsync(BankProcess node)
    {
        await Eventually.HoldsAsync(() => HealthLine().IsMatch(node.Stdout), $"{node.Description} to print its health line");
        return HealthLine().Match(node.Stdout).Groups["url"].Value;
    }

    [GeneratedRegex(@"^Health: (?<url>http://[^ ]+)/health/live and ", RegexOptions.Multiline)]
    private static partial Regex HealthLine();
}
