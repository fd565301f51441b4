using System.Text.Json.Nodes;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// Configuration the .NET way (DESIGN.md section 9), through the real `bank`: flags, then BANK__/AKKA__ variables, then
/// appsettings.{Environment}.json, then appsettings.json in the working directory, then hocon/; `bank config show`.
/// </summary>
public sealed class ConfigCliSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly TempDataDirectory _folder = new();

    public ConfigCliSpecs() => Directory.CreateDirectory(_folder.Path);

    public void Dispose() => _folder.Dispose();

    /// <summary>The variables of a plain run: no environment name, nothing of Bank's that the test runner may carry.</summary>
    private static Dictionary<string, string?> Variables(params (string Name, string? Value)[] set)
    {
        var variables = new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null };
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (name.StartsWith("BANK__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("AKKA__", StringComparison.OrdinalIgnoreCase))
                variables[name] = null;
        foreach (var (name, value) in set) variables[name] = value;
        return variables;
    }

    private async Task<JsonObject> ShowAsync(Dictionary<string, string?> variables, params string[] flags)
    {
        var result = await BankProcess.RunInAsync(_folder.Path, Timeout, variables, ["config", "show", "--json", .. flags]);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"bank config show exited {result.ExitCode}: {result.Stdout}{result.Stderr}");
        return JsonNode.Parse(result.Stdout)!.AsObject();
    }

    private static (string? Value, string? Origin) Setting(JsonObject shown, string path) =>
        ((string?)shown["settings"]?[path]?["value"], (string?)shown["settings"]?[path]?["origin"]);

    private void Write(string file, string json) => File.WriteAllText(Path.Combine(_folder.Path, file), json);

    [Fact]
    public async Task Flags_win_over_variables_which_win_over_appsettings_of_the_environment_then_appsettings_then_hocon()
    {
        Write("appsettings.json", """
            { "Bank": { "accounts": { "snapshot-every": 50 }, "transfers": { "step-timeout": "6s", "retry-interval": "2s" },
                        "persistence": { "data-directory": "from-appsettings" } },
              "Akka": { "cluster": { "min-nr-of-members": 1 } } }
            """);
        Write("appsettings.Staging.json", """{ "Bank": { "transfers": { "step-timeout": "7s", "retry-interval": "3s" } } }""");
        var variables = Variables(("DOTNET_ENVIRONMENT", "Staging"), ("BANK__TRANSFERS__RETRY_INTERVAL", "4s"),
            ("BANK__PERSISTENCE__DATA_DIRECTORY", "from-environment"), ("AKKA__CLUSTER__LOG_INFO", "on"));

        var shown = await ShowAsync(variables, "--data", "from-flag");

        Assert.Equal("Staging", (string?)shown["environment"]);
        Assert.Equal(("from-flag", "flag --data"), Setting(shown, "bank.persistence.data-directory"));
        Assert.Equal(("4s", "environment BANK__TRANSFERS__RETRY_INTERVAL"), Setting(shown, "bank.transfers.retry-interval"));
        Assert.Equal(("on", "environment AKKA__CLUSTER__LOG_INFO"), Setting(shown, "akka.cluster.log-info"));
        Assert.Equal(("7s", "appsettings.Staging.json (Bank:transfers:step-timeout)"), Setting(shown, "bank.transfers.step-timeout"));
        Assert.Equal(("50", "appsettings.json (Bank:accounts:snapshot-every)"), Setting(shown, "bank.accounts.snapshot-every"));
        Assert.Equal(("1", "appsettings.json (Akka:cluster:min-nr-of-members)"), Setting(shown, "akka.cluster.min-nr-of-members"));
        Assert.Equal(("10s", "hocon/bank.hocon"), Setting(shown, "bank.accounts.ask-timeout"));

        // Without the flag, the variable; without the environment's name, appsettings.json's own value.
        var withoutFlag = await ShowAsync(variables);
        Assert.Equal(("from-environment", "environment BANK__PERSISTENCE__DATA_DIRECTORY"), Setting(withoutFlag, "bank.persistence.data-directory"));
        var production = await ShowAsync(Variables());
        Assert.Equal(("6s", "appsettings.json (Bank:transfers:step-timeout)"), Setting(production, "bank.transfers.step-timeout"));
    }

    [Fact]
    public async Task A_node_runs_with_the_settings_of_the_environment_unless_a_flag_says_otherwise()
    {
        var fromEnvironment = Path.Combine(_folder.Path, "env-data");
        var fromFlag = Path.Combine(_folder.Path, "flag-data");
        var variables = Variables(("BANK__PERSISTENCE__DATA_DIRECTORY", fromEnvironment));

        foreach (var (flags, expected) in new[] { (Array.Empty<string>(), fromEnvironment), (new[] { "--data", fromFlag }, fromFlag) })
        {
            await using var node = await BankProcess.StartNodeAsync("head", variables, ["start", "--head", "--port", "0", "--no-dashboard", .. flags]);
            Assert.Contains($"; journal: {expected}", node.Stdout, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(expected, "bank.db")), $"no journal in {expected}");
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task Config_show_masks_passwords_tokens_and_the_passwords_of_connection_strings()
    {
        Write("appsettings.json", """{ "Bank": { "persistence": { "connection-string": "Host=db;Username=bank;Password=appsettings-pw-1" } } }""");
        var variables = Variables(("BANK__TLS_PASSWORD", "tls-password-2"), ("BANK__DASHBOARD_TOKEN", "dashboard-token-3-abcdefgh"),
            ("BANK__CONNECTION", "Host=db;Username=bank;Password=variable-pw-4"), ("BANK__TLS", "/certs/node1"));

        foreach (var format in new[] { "--json", "--text" })
        {
            var args = format == "--json" ? new[] { "config", "show", "--json" } : ["config", "show"];
            var result = await BankProcess.RunInAsync(_folder.Path, Timeout, variables, args);

            Assert.Equal(0, result.ExitCode);
            foreach (var secret in new[] { "appsettings-pw-1", "tls-password-2", "dashboard-token-3-abcdefgh", "variable-pw-4" })
                Assert.DoesNotContain(secret, result.Stdout + result.Stderr, StringComparison.Ordinal);
            Assert.Contains("BANK__TLS_PASSWORD", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("/certs/node1", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("Password=***", result.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_setting_that_hocon_does_not_have_is_refused_in_one_line_before_anything_starts()
    {
        var result = await BankProcess.RunInAsync(_folder.Path, Timeout, Variables(("BANK__PERSISTENCE__WRITE_TIMOUT", "2s")),
            "start", "--head", "--port", "0", "--no-dashboard", "--data", Path.Combine(_folder.Path, "data"));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(["error: environment BANK__PERSISTENCE__WRITE_TIMOUT names no setting: bank.persistence.write-timout is not in hocon/ (the settings are listed in docs/configuration.md)"],
            result.ErrorLines);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "data")), "the node started");
    }

    [Fact]
    public async Task Variables_of_their_own_such_as_BANK__TLS_are_not_taken_for_settings()
    {
        var shown = await ShowAsync(Variables(("BANK__TLS", "/certs/node1"), ("BANK__CONNECTION_FILE", "/run/secrets/bank")));

        Assert.DoesNotContain(shown["settings"]!.AsObject(), s => s.Key.StartsWith("bank.tls", StringComparison.Ordinal) || s.Key.StartsWith("bank.connection", StringComparison.Ordinal));
        Assert.Equal("/certs/node1", (string?)shown["variables"]?["BANK__TLS"]);
        Assert.Equal("/run/secrets/bank", (string?)shown["variables"]?["BANK__CONNECTION_FILE"]);
    }
}
