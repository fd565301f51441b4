using System.Diagnostics.Metrics;
using Bank.Hosting.Client;
using Bank.Hosting.Metrics;
using Bank.Hosting.Tests.Support;
using Bank.Testing;
using Xunit;

namespace Bank.Hosting.Tests.Metrics;

/// <summary>Issue 18: each restart of an account after a failure counts once in bank.account.restarts.</summary>
public sealed class RestartMetricsSpecs(FaultInjectionFixture fixture) : IClassFixture<FaultInjectionFixture>
{
    [Fact]
    public async Task Each_restart_of_a_crashed_account_is_counted()
    {
        long restarts = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, BankMetrics.Restarts)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref restarts, value));
        listener.Start();
        await using var session = fixture.Cluster.NewSession();
        var account = await session.OpenAsync("metrics-restarts",
            new AccountOptions(100m, 0m) { Detached = true, MaxRestarts = 5, MaxTaskRetries = -1 });

        await session.CrashAsync("metrics-restarts", 2);
        await session.DepositAsync(account, 1m);

        await Eventually.HoldsAsync(() => Interlocked.Read(ref restarts) >= 2, "two restarts counted");
    }
}
