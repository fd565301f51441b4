using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Cluster;
using Bank.Hosting.Client;
using Bank.Hosting.Dashboard;
using Bank.Hosting.Metrics;
using Bank.Hosting.Tests.Support;
using Bank.Testing;
using Xunit;

namespace Bank.Hosting.Tests.Metrics;

/// <summary>
/// Issue 18: the meter Bank counts what operators watch where it happens: a call by kind and outcome with its latency,
/// in-process and from a ClusterClient, a journal commit's batch, the gauges of the node; and the dashboard's port
/// serves the same figures to Prometheus at /metrics. The instruments are process-wide, so a spec looks for its own
/// measurements among those of other classes running beside it, never for exact totals.
/// </summary>
public sealed partial class BankMetricsSpecs(BankNodeFixture fixture) : IClassFixture<BankNodeFixture>, IDisposable
{
    private readonly Heard _heard = new();

    [Fact]
    public async Task A_deposit_through_a_node_counts_an_ok_deposit_and_its_latency()
    {
        await using var session = fixture.Cluster.NewSession();
        var account = await session.OpenAsync("metrics-deposit", new AccountOptions(10m, 0m) { Detached = true });

        await session.DepositAsync(account, 5m);

        Assert.True(_heard.Calls("deposit", "ok") >= 1, "no deposit counted as ok");
        Assert.Contains(_heard.Of("bank.call.duration"), m => m.Tags["kind"] == "deposit" && m.Value is > 0 and < 60);
        Assert.True(_heard.Calls("open", "ok") >= 1, "no open counted as ok");
    }

    [Fact]
    public async Task A_refused_call_counts_the_code_of_its_refusal()
    {
        await using var session = fixture.Cluster.NewSession();
        var account = await session.OpenAsync("metrics-refused", new AccountOptions(10m, 0m) { Detached = true });

        var refused = await Assert.ThrowsAsync<BankException>(() => session.WithdrawAsync(account, 100m));

        Assert.Equal("InsufficientBalance", refused.Code);
        Assert.True(_heard.Calls("withdraw", "InsufficientBalance") >= 1, "the refused withdrawal was not counted with its code");
    }

    [Fact]
    public async Task A_journal_commit_records_its_batch_size_and_latency()
    {
        await using var session = fixture.Cluster.NewSession();
        var account = await session.OpenAsync("metrics-commit", new AccountOptions(10m, 0m) { Detached = true });

        await session.DepositAsync(account, 1m);

        Assert.Contains(_heard.Of("bank.journal.commit.batch_size"), m => m.Value >= 1);
        Assert.Contains(_heard.Of("bank.journal.commit.duration"), m => m.Value >= 0);
    }

    [Fact]
    public async Task Calls_from_a_cluster_client_are_counted_by_the_gateway_with_the_node_s_gauges()
    {
        await using var client = await BankClient.ConnectAsync([$"127.0.0.1:{Cluster.Get(fixture.Node.System).SelfAddress.Port}"]);
        await using var session = client.OpenSession();
        var account = await session.OpenAsync("metrics-client", new AccountOptions(10m, 0m) { Detached = true });

        await session.DepositAsync(account, 5m);
        await session.DepositAsync("metrics-client", 5m);
        await Assert.ThrowsAsync<BankException>(() => session.WithdrawAsync("metrics-client", 1000m));
        await session.KillAsync("metrics-client");

        // Counted by the node's gateway: the ClusterClient's process records nothing of its own here.
        Assert.True(_heard.Calls("open", "ok") >= 1, "the open through the gateway was not counted");
        Assert.True(_heard.Calls("deposit", "ok") >= 2, "the deposits through the gateway were not counted");
        Assert.True(_heard.Calls("withdraw", "InsufficientBalance") >= 1, "the refusal through the gateway was not counted");
        Assert.True(_heard.Calls("kill", "ok") >= 1, "the kill through the gateway was not counted");
        var node = Cluster.Get(fixture.Node.System).SelfAddress.ToString();
        await Eventually.HoldsAsync(() => _heard.Gauge("bank.cluster_client.sessions", node) >= 1, "the client's session in the gauge");
        Assert.True(_heard.Gauge("bank.accounts.alive", node) >= 0, "the registry's node reports no alive accounts");
        Assert.True(_heard.Gauge("bank.actors.pending", node) >= 0, "the registry's node reports no pending actors");
    }

    [Fact]
    public async Task The_node_reports_its_live_and_alive_accounts_and_the_state_store_s_lag()
    {
        await using var session = fixture.Cluster.NewSession();
        var account = await session.OpenAsync("metrics-gauges", new AccountOptions(10m, 0m) { Detached = true });
        await session.DepositAsync(account, 1m);
        var node = Cluster.Get(fixture.Node.System).SelfAddress.ToString();

        Assert.True(_heard.Gauge("bank.accounts.live", node) >= 1, "no live account on the node");
        Assert.True(_heard.Gauge("bank.accounts.alive", node) >= 1, "no alive account in the registry");
        // The feeder reads the journal's head every lag-interval (5 s).
        await Eventually.HoldsAsync(() => _heard.Gauge("bank.state_store.lag", node) >= 0, "the state store's lag in the gauge");
    }

    [Fact]
    public async Task The_dashboard_port_serves_the_figures_to_Prometheus_at_metrics()
    {
        await using var dashboard = await BankDashboard.StartAsync(fixture.Node, new DashboardOptions("127.0.0.1", FreePort.Next()));
        using var http = new HttpClient();
        await using var session = fixture.Cluster.NewSession();
        var account = await session.OpenAsync("metrics-scrape", new AccountOptions(10m, 0m) { Detached = true });
        var before = Deposits(await ScrapeAsync(http, dashboard));

        for (var i = 0; i < 3; i++) await session.DepositAsync(account, 1m);

        // The exporter caches a scrape for a moment: read until the three deposits show.
        var scrape = await Eventually.ReadsAsync(() => ScrapeAsync(http, dashboard), text => Deposits(text) >= before + 3,
            "three more deposits in the scrape", show: text => text);
        Assert.Matches(@"bank_call_duration_seconds_bucket\{[^}]*kind=""deposit""", scrape);
        Assert.Contains("bank_journal_commit_batch_size", scrape);
        Assert.Contains("bank_accounts_live", scrape);
        // The dashboard reads the same figures: its reader started with the exporter and heard the same deposits.
        using var state = JsonDocument.Parse(await http.GetStringAsync(dashboard.Url + "/api/state"));
        var deposits = state.RootElement.GetProperty("metrics").GetProperty("calls").EnumerateArray()
            .Single(c => c.GetProperty("kind").GetString() == "deposit" && c.GetProperty("outcome").GetString() == "ok");
        Assert.True(deposits.GetProperty("count").GetInt64() >= 3, $"the dashboard shows {deposits} deposits");
    }

    private static async Task<string> ScrapeAsync(HttpClient http, BankDashboard dashboard)
    {
        var response = await http.GetAsync(dashboard.Url + BankTelemetry.ScrapePath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of bank_calls_total{kind="deposit",outcome="ok"} in a scrape; 0 before the first.</summary>
    private static long Deposits(string scrape)
    {
        foreach (var line in scrape.Split('\n'))
            if (line.StartsWith("bank_calls_total{", StringComparison.Ordinal) && line.Contains("kind=\"deposit\"") && line.Contains("outcome=\"ok\""))
                return long.Parse(CounterValue().Match(line).Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }

    [GeneratedRegex(@"\}\s+(?<value>\d+)")]
    private static partial Regex CounterValue();

    public void Dispose() => _heard.Dispose();

    /// <summary>Every measurement of the meter Bank while a spec runs.</summary>
    private sealed class Heard : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, string> Tags)> _measured = new();

        public Heard()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == BankMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var named = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var tag in tags) named[tag.Key] = tag.Value?.ToString() ?? "";
            _measured.Enqueue((instrument.Name, value, named));
        }

        public IEnumerable<(double Value, Dictionary<string, string> Tags)> Of(string instrument) =>
            _measured.Where(m => m.Instrument == instrument).Select(m => (m.Value, m.Tags)).ToList();

        public double Calls(string kind, string outcome) =>
            Of("bank.calls").Where(m => m.Tags["kind"] == kind && m.Tags["outcome"] == outcome).Sum(m => m.Value);

        /// <summary>The gauge's value for <paramref name="node"/> now; -1 when the node reports none.</summary>
        public double Gauge(string instrument, string node)
        {
            _listener.RecordObservableInstruments();
            return Of(instrument).Where(m => m.Tags.GetValueOrDefault("node") == node).Select(m => m.Value).DefaultIfEmpty(-1).Last();
        }

        public void Dispose() => _listener.Dispose();
    }
}
