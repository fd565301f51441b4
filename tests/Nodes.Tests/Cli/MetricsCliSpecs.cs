using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Bank.Hosting.Client;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 18 point 8: a node's Prometheus scrape endpoint counts exactly the calls made. A node process of its own, so
/// that no other spec's calls are in its figures (the in-process BankMetricsSpecs can only look for at least theirs).
/// </summary>
public sealed partial class MetricsCliSpecs
{
    private const int Deposits = 7;

    [Fact]
    public async Task The_scrape_endpoint_s_deposit_counter_grows_by_exactly_the_number_of_deposits_made()
    {
        using var data = new TempDataDirectory();
        var (port, httpPort) = (FreePort.Next(), FreePort.Next());
        await using var head = await BankProcess.StartNodeAsync($"head on port {port}", "start", "--head", "--port", port.ToString(),
            "--http-port", httpPort.ToString(), "--data", data.Path);
        await using var client = await BankClient.ConnectAsync([head.Address]);
        await using var session = client.OpenSession();
        var account = await session.OpenAsync("scraped", new AccountOptions(10m, 0m) { Detached = true });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = $"http://127.0.0.1:{httpPort}/metrics";
        var before = Calls(await ScrapeAsync(http, url), "deposit");

        for (var i = 0; i < Deposits; i++) await session.DepositAsync(account, 1m);

        // The exporter caches a scrape for a moment: read until the deposits show.
        await Eventually.ReadsAsync(() => ScrapeAsync(http, url), text => Calls(text, "deposit") >= before + Deposits,
            $"{Deposits} more deposits in the scrape", show: text => $"{Calls(text, "deposit")} deposits");
        // Then a call of another kind: once it shows, any deposit counted twice would show too.
        var balances = Calls(await ScrapeAsync(http, url), "balance");
        await session.BalanceAsync(account);
        var settled = await Eventually.ReadsAsync(() => ScrapeAsync(http, url), text => Calls(text, "balance") > balances,
            "the balance call in the scrape", show: text => $"{Calls(text, "balance")} balance calls");
        Assert.Equal(before + Deposits, Calls(settled, "deposit"));
        Assert.Equal(balances + 1, Calls(settled, "balance"));
    }

    private static async Task<string> ScrapeAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>bank_calls_total{kind=KIND,outcome="ok"} in a scrape; 0 before the first such call.</summary>
    private static long Calls(string scrape, string kind) => scrape.Split('\n')
        .Select(line => CounterLine().Match(line))
        .Where(m => m.Success && m.Groups["labels"].Value.Contains($"kind=\"{kind}\"", StringComparison.Ordinal)
                              && m.Groups["labels"].Value.Contains("outcome=\"ok\"", StringComparison.Ordinal))
        .Sum(m => long.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^bank_calls_total\{(?<labels>[^}]*)\}\s+(?<value>\d+)")]
    private static partial Regex CounterLine();
}
