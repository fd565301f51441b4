using Akka.Configuration;
using Akka.Hosting;
using Bank.Hosting;
using Bank.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Xunit;

namespace Bank.Nodes.Tests.Configuration;

/// <summary>How appsettings and variables become HOCON, and that a node's composition reads its own configuration.</summary>
public sealed class NodeSettingsSpecs
{
    [Theory]
    [InlineData("BANK__PERSISTENCE__WRITE_TIMEOUT", "bank.persistence.write-timeout")]
    [InlineData("bank__persistence__write-timeout", "bank.persistence.write-timeout")]
    [InlineData("AKKA__CLUSTER__MIN_NR_OF_MEMBERS", "akka.cluster.min-nr-of-members")]
    [InlineData("AKKA__CLUSTER__ROLES__0", "akka.cluster.roles.0")]
    public void A_variable_names_the_hocon_path_as_Akka_Hosting_reads_it(string variable, string path) =>
        Assert.Equal(path, AppSettings.FromVariable(variable, "x")?.Path);

    [Theory]
    [InlineData("BANK__TLS")]
    [InlineData("BANK__TLS_PASSWORD")]
    [InlineData("BANK__TLS_PASSWORD_FILE")]
    [InlineData("BANK__CONNECTION")]
    [InlineData("BANK__DASHBOARD_TOKEN_FILE")]
    [InlineData("BANK_ADDRESS")]
    [InlineData("BANK_TEST_POSTGRES")]
    [InlineData("DOTNET_ENVIRONMENT")]
    public void Variables_of_their_own_and_others_are_no_settings(string variable) =>
        Assert.Null(AppSettings.FromVariable(variable, "x"));

    [Fact]
    public void Given_settings_become_HOCON_that_Akka_reads_as_numbers_durations_switches_and_lists()
    {
        var config = BankConfiguration.From(
        [
            new GivenSetting("bank.accounts.snapshot-every", "7", "t"),
            new GivenSetting("bank.transfers.step-timeout", "2500ms", "t"),
            new GivenSetting("bank.state-store.enabled", "off", "t"),
            new GivenSetting("akka.cluster.roles.1", "b \"quoted\"", "t"),
            new GivenSetting("akka.cluster.roles.0", "a", "t"),
        ]).Config;

        Assert.Equal(7, config.GetInt("bank.accounts.snapshot-every"));
        Assert.Equal(TimeSpan.FromMilliseconds(2500), config.GetTimeSpan("bank.transfers.step-timeout"));
        Assert.False(config.GetBoolean("bank.state-store.enabled"));
        Assert.Equal(["a", "b \"quoted\""], config.GetStringList("akka.cluster.roles"));
        // What nothing overrides stays as hocon/ has it.
        Assert.Equal(BankHocon.Defaults.GetTimeSpan("bank.accounts.ask-timeout"), config.GetTimeSpan("bank.accounts.ask-timeout"));
    }

    [Fact]
    public void The_journals_settings_are_read_from_the_configuration_the_node_is_composed_with()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "spec");
        builder.WithBankHocon()
            .AddHocon("bank.persistence.write-timeout = 1500ms\nbank.persistence.command-timeout = 7s\n" +
                      "akka.persistence.journal.sql.group-commit-max-rows = 77", HoconAddMode.Prepend)
            .WithBankPersistence(BankPersistenceOptions.Postgres("Host=127.0.0.1;Database=spec;Username=spec"));
        var journal = builder.Configuration.Value.GetConfig("akka.persistence.journal.sql");

        Assert.Equal(TimeSpan.FromMilliseconds(1500), journal.GetTimeSpan("write-timeout"));
        Assert.Equal(77, journal.GetInt("group-commit-max-rows"));
        Assert.Contains("Command Timeout=7", journal.GetString("connection-string"), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_logs_are_one_JSON_object_a_line_on_stderr()
    {
        var services = new ServiceCollection();
        services.AddLogging(RunningNode.JsonWarningsToStderr);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value;
        var formatter = provider.GetServices<ConsoleFormatter>().Single(f => f.Name == options.FormatterName);
        var written = new StringWriter();

        formatter.Write(new Microsoft.Extensions.Logging.Abstractions.LogEntry<string>(LogLevel.Warning, "Bank.Spec", default, "journal\nslow",
            null, (state, _) => state), null, written);

        Assert.Equal(ConsoleFormatterNames.Json, options.FormatterName);
        Assert.Equal(LogLevel.Trace, options.LogToStandardErrorThreshold);
        var line = Assert.Single(written.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var entry = System.Text.Json.Nodes.JsonNode.Parse(line)!;
        Assert.Equal("Warning", (string?)entry["LogLevel"]);
        Assert.Equal("journal\nslow", (string?)entry["Message"]);
    }
}
