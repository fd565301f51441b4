using Akka.Hosting;
using Xunit;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// One Bank node per test class, in a data folder of its own, composed by the same extension method the nodes use.
/// Tests in the class share it, so each uses its own names and keys.
/// </summary>
public class BankNodeFixture : IAsyncLifetime
{
    private TestNode? _node;

    public TempDataDirectory Data { get; } = new();

    public TestNode Node => _node ?? throw new InvalidOperationException("The node has not started");

    /// <summary>What the node runs; a subclass adds test settings after it.</summary>
    protected virtual void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        builder.WithBankNode(TestNode.OptionsFor(Data));
        // The TestKit adds its own defaults beneath the node's; persistence on a busy machine earns a longer wait than 3 s.
        builder.AddHocon("akka.test { single-expect-default = 10s, default-timeout = 10s }", HoconAddMode.Append);
    }

    public async Task InitializeAsync() => _node = await TestNode.StartAsync(ConfigureAkka);

    public async Task DisposeAsync()
    {
        try
        {
            if (_node is not null)
                await _node.DisposeAsync();
        }
        finally
        {
            Data.Dispose();
        }
    }
}

/// <summary>A node whose accounts snapshot every 10 events, so a test can see recovery from a snapshot.</summary>
public sealed class SnapshotEveryTenFixture : BankNodeFixture
{
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        builder.AddHocon("bank.accounts.snapshot-every = 10", HoconAddMode.Prepend);
    }
}

/// <summary>A node whose registry comes back within 200 ms when it stops, so a test can watch its supervisor at work.</summary>
public sealed class FastRegistryRestartFixture : BankNodeFixture
{
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        builder.AddHocon("bank.registry { min-backoff = 100ms, max-backoff = 200ms }", HoconAddMode.Prepend);
    }
}

/// <summary>
/// A node started with --allow-fault-injection, whose crashed accounts come back after 100-400 ms, so that tests can
/// crash accounts with `bank chaos crash` and see their restarts quickly.
/// </summary>
public class FaultInjectionFixture : BankNodeFixture
{
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        builder.WithFaultInjection(true);
        builder.AddHocon("bank.accounts.supervision { min-backoff = 100ms, max-backoff = 400ms }", HoconAddMode.Prepend);
    }
}

/// <summary>Fault injection with a 3 s backoff before every restart, so a test can see an actor in the RESTARTING state.</summary>
public sealed class SlowRestartFixture : FaultInjectionFixture
{
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        builder.AddHocon("bank.accounts.supervision { min-backoff = 3s, max-backoff = 3s, random-factor = 0 }", HoconAddMode.Prepend);
    }
}
