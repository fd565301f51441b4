using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// The head's web dashboard in a real headless browser (Debian's chromium driven by Microsoft.Playwright), with a head
/// and a worker as real processes on PostgreSQL (issue 7): both nodes and an account show, a deposit made with the CLI
/// changes the balance on the page without a reload, and the account's page lists its events. Needs BANK_TEST_POSTGRES
/// and chromium (BANK_TEST_CHROMIUM, else /usr/bin/chromium); `.ci/run` installs both. Skipped with the reason elsewhere.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DashboardSpecs(ITestOutputHelper output)
{
    private static readonly float WaitMs = 20_000;

    private static string ChromiumPath => Environment.GetEnvironmentVariable("BANK_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    [SkippableFact]
    public async Task The_dashboard_shows_both_nodes_and_an_account_and_a_deposit_updates_the_balance_without_a_reload()
    {
        var connection = PostgresDatabase.RequireConnectionString();
        Skip.IfNot(File.Exists(ChromiumPath),
            $"no chromium at {ChromiumPath}: the dashboard spec drives Debian's chromium (apt-get install chromium; .ci/run installs it)");

        await using var database = await PostgresDatabase.CreateAsync(connection);
        var headPort = FreePort.Next();
        var dashboardPort = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"head on port {headPort}",
            "start", "--head", "--port", headPort.ToString(), "--journal", "postgres", "--connection", database.ConnectionString,
            "--dashboard-port", dashboardPort.ToString());
        var workerPort = FreePort.Next();
        await using var worker = await BankProcess.StartNodeAsync($"worker on port {workerPort}",
            "start", "--address", head.Address, "--port", workerPort.ToString(), "--journal", "postgres", "--connection", database.ConnectionString);
        var url = $"http://127.0.0.1:{dashboardPort}";
        Assert.Contains($"View the dashboard at {url}", head.Stdout);
        var bank = new BankCommands(head.Address, () => head.Tail() + worker.Tail());
        await bank.OkAsync("open", "dash", "--balance", "5");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // CI runs as root, where chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync();
        // The page runs under its Content-Security-Policy: a blocked script, style or fetch would be reported here.
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) violations.Add(message.Text);
        };
        await page.GotoAsync(url);

        var nodes = page.Locator("#nodes tbody tr");
        await Assertions.Expect(nodes).ToHaveCountAsync(2, new() { Timeout = WaitMs });
        await Assertions.Expect(nodes.Filter(new() { HasText = $"akka.tcp://bank@{head.Address}" })).ToContainTextAsync("Up");
        await Assertions.Expect(nodes.Filter(new() { HasText = $"akka.tcp://bank@{worker.Address}" })).ToContainTextAsync("Up");
        var account = page.Locator("#actors tbody tr", new() { HasText = "dash" });
        await Assertions.Expect(account).ToContainTextAsync("ALIVE", new() { Timeout = WaitMs });
        await Assertions.Expect(account.Locator(".balance")).ToHaveTextAsync("5.0", new() { Timeout = WaitMs });

        // A mark that a reload would wipe out.
        await page.EvaluateAsync("() => { window.notReloaded = true; }");
        Assert.Equal("8.0", await bank.OkAsync("deposit", "dash", "3"));
        await Assertions.Expect(account.Locator(".balance")).ToHaveTextAsync("8.0", new() { Timeout = WaitMs });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        await Assertions.Expect(page.Locator("#ops polyline")).ToHaveCountAsync(1);
        Assert.Empty(violations);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"screenshot of the dashboard: {screenshot} ({new FileInfo(screenshot).Length} bytes)");
        Assert.True(new FileInfo(screenshot).Length > 0);

        await account.Locator("a").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync($"{url}/actor/dash", new() { Timeout = WaitMs });
        var history = page.Locator("#history tbody tr");
        await Assertions.Expect(history).ToHaveCountAsync(2, new() { Timeout = WaitMs });
        await Assertions.Expect(history.Nth(1)).ToContainTextAsync("deposited");
        await Assertions.Expect(history.Nth(1)).ToContainTextAsync("8.0");
    }
}
