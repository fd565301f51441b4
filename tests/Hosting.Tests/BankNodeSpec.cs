using Xunit;
using Akka.Hosting;
using Bank.Hosting;
using Xunit.Abstractions;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Bank.Hosting.Tests;

public abstract class BankNodeSpec(ITestOutputHelper output)
    : Akka.Hosting.TestKit.TestKit(BankConstants.ActorSystemName, output, TimeSpan.FromSeconds(30), LogLevel.Warning)
{
    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        builder.WithBankNode(new BankNodeOptions { Port = 0, Persistence = BankPersistenceOptions.Sqlite(DataDirectory) });
    }

    protected override async Task BeforeTestStart()
    {
        await base.BeforeTestStart();
        await Sys.WhenUpAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}

public class ProbeSpecs(ITestOutputHelper output) : BankNodeSpec(output)
{
    [Fact] public void A() { }
    [Fact] public void B() { }
    [Fact] public void C() { }
}
