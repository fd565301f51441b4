using Xunit;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// An <see cref="InProcessCluster"/> per test class (one node unless a subclass says more), in a data folder of its own.
/// Tests in the class share it, so each uses its own names and keys. A subclass gives the class's settings.
/// </summary>
public class BankNodeFixture : IAsyncLifetime
{
    private InProcessCluster? _cluster;

    public InProcessCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started");

    /// <summary>The seed node, where the class's TestKit runs.</summary>
    public RunningNode Node => Cluster.Seed;

    public TempDataDirectory Data => Cluster.Data;

    /// <summary>How many nodes the class's cluster has.</summary>
    protected virtual int Nodes => 1;

    /// <summary>Settings every node of the class runs with, after the node's own; a subclass adds its own after its base's.</summary>
    protected virtual string Hocon => "";

    /// <summary>Every node accepts `bank chaos crash`.</summary>
    protected virtual bool AllowFaultInjection => false;

    public async Task InitializeAsync() =>
        _cluster = await InProcessCluster.StartAsync(Nodes, Hocon, AllowFaultInjection);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}

/// <summary>A node whose accounts snapshot every 10 events, so a test can see recovery from a snapshot.</summary>
public sealed class SnapshotEveryTenFixture : BankNodeFixture
{
    protected override string Hocon => base.Hocon + "\nbank.accounts.snapshot-every = 10";
}

/// <summary>A node whose registry comes back within 200 ms when it stops, so a test can watch its supervisor at work.</summary>
public sealed class FastRegistryRestartFixture : BankNodeFixture
{
    protected override string Hocon => base.Hocon + "\nbank.registry { min-backoff = 100ms, max-backoff = 200ms }";
}

/// <summary>
/// A node started with --allow-fault-injection, whose crashed accounts come back after 100-400 ms, so that tests can
/// crash accounts with `bank chaos crash` and see their restarts quickly.
/// </summary>
public class FaultInjectionFixture : BankNodeFixture
{
    protected override bool AllowFaultInjection => true;

    protected override string Hocon => base.Hocon + "\nbank.accounts.supervision { min-backoff = 100ms, max-backoff = 400ms }";
}

/// <summary>Fault injection with a 3 s backoff before every restart, so a test can see an actor in the RESTARTING state.</summary>
public sealed class SlowRestartFixture : FaultInjectionFixture
{
    protected override string Hocon => base.Hocon + "\nbank.accounts.supervision { min-backoff = 3s, max-backoff = 3s, random-factor = 0 }";
}

/// <summary>Two nodes for the class: the tests that leave the cluster whole share it, each with its own names.</summary>
public sealed class TwoNodeClusterFixture : BankNodeFixture
{
    protected override int Nodes => 2;
}
