using System.CommandLine;
using System.Text.Json.Nodes;
using Bank.Hosting;
using Bank.Hosting.Configuration;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank config show`: the settings a node started here would run with (flags, then BANK__/AKKA__ variables, then
/// appsettings.{Environment}.json and appsettings.json in the working directory, then hocon/), each with where it came
/// from; passwords, tokens and secrets masked.
/// </summary>
public sealed class ConfigCommand(Output output)
{
    public static Command Create()
    {
        var show = new Command("show",
            "Print the effective settings (the bank.* tree and the akka.* keys of hocon/) with where each comes from: a flag, a BANK__ or AKKA__ " +
            "environment variable, appsettings.{Environment}.json or appsettings.json in the working directory, or hocon/. " +
            "Passwords, tokens and secrets are masked. The journal flags show what `bank start` with them would use.")
        {
            SharedOptions.Data, SharedOptions.Journal, SharedOptions.Connection,
        };
        show.SetAction(parsed => new ConfigCommand(BankCli.OutputOf(parsed)).Show(parsed));
        return new Command("config", "The node's configuration.") { show };
    }

    /// <summary>The variables read where they are used rather than as settings (and the environment's name), shown (masked) when set.</summary>
    public static readonly IReadOnlyList<string> Variables =
    [
        ConnectionSecrets.Variable, ConnectionSecrets.FileVariable, Hosting.Security.TlsIdentity.DirectoryVariable,
        Hosting.Security.CertificateAuthority.PasswordVariable, Hosting.Security.CertificateAuthority.PasswordVariable + "_FILE",
        Hosting.Dashboard.DashboardOptions.TokenVariable, Hosting.Dashboard.DashboardOptions.TokenVariable + "_FILE", "BANK_ADDRESS",
        "DOTNET_ENVIRONMENT", "ASPNETCORE_ENVIRONMENT",
    ];

    private int Show(ParseResult parsed)
    {
        var configuration = BankConfiguration.Current;
        var settings = configuration.Effective(Flags(parsed));
        var environment = AppSettings.ProcessEnvironment();
        var variables = environment
            .Where(v => Variables.Contains(v.Key, StringComparer.Ordinal) || (AppSettings.IsVariableOfItsOwn(v.Key) && v.Key == v.Key.ToUpperInvariant()))
            .OrderBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => (Name: v.Key, Value: MaskVariable(v.Key, v.Value)))
            .ToList();
        if (output.Json)
        {
            var json = new JsonObject();
            foreach (var setting in settings)
                json[setting.Path] = new JsonObject { ["value"] = Mask(setting.Path, setting.Value), ["origin"] = setting.Origin };
            var shown = new JsonObject();
            foreach (var (name, value) in variables) shown[name] = value;
            output.PrintJson(new JsonObject
            {
                ["environment"] = AppSettings.EnvironmentName(environment),
                ["settings"] = json,
                ["variables"] = shown,
            });
            return ExitCodes.Ok;
        }

        output.Line($"# environment {AppSettings.EnvironmentName(environment)}; precedence: flags, BANK__/AKKA__ variables, appsettings.{{Environment}}.json, appsettings.json, hocon/");
        var width = settings.Max(s => s.Path.Length);
        foreach (var setting in settings)
            output.Line($"{setting.Path.PadRight(width)} = {Mask(setting.Path, setting.Value)}  # {setting.Origin}");
        foreach (var (name, value) in variables)
            output.Line($"${name} = {value}");
        return ExitCodes.Ok;
    }

    /// <summary>The journal flags as the settings they override, and $BANK__CONNECTION as the connection string when no flag names one.</summary>
    private static IEnumerable<GivenSetting> Flags(ParseResult parsed)
    {
        if (parsed.GetValue(SharedOptions.Journal) is { } journal)
            yield return new GivenSetting("bank.persistence.journal", journal, "flag --journal");
        if (parsed.GetValue(SharedOptions.Data) is { } data)
            yield return new GivenSetting("bank.persistence.data-directory", data, "flag --data");
        if (parsed.GetValue(SharedOptions.Connection) is { } connection)
            yield return new GivenSetting("bank.persistence.connection-string", connection, "flag --connection");
        else if (Environment.GetEnvironmentVariable(ConnectionSecrets.Variable) is { Length: > 0 } variable)
            yield return new GivenSetting("bank.persistence.connection-string", variable, $"environment {ConnectionSecrets.Variable}");
    }

    /// <summary>A password, token or secret as ***; any other value with the passwords of connection strings in it masked.</summary>
    public static string Mask(string path, string value)
    {
        var key = path[(path.LastIndexOf('.') + 1)..];
        return Secret(key) ? ConnectionSecrets.Mask : ConnectionSecrets.Hide(value);
    }

    private static string MaskVariable(string name, string value) =>
        name.EndsWith("_FILE", StringComparison.Ordinal) ? value : Secret(name) ? ConnectionSecrets.Mask : ConnectionSecrets.Hide(value);

    private static bool Secret(string key) =>
        new[] { "password", "secret", "token", "pwd" }.Any(word => key.Contains(word, StringComparison.OrdinalIgnoreCase));
}
