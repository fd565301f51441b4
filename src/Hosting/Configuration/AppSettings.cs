using System.Collections;
using Microsoft.Extensions.Configuration;

namespace Bank.Hosting.Configuration;

/// <summary>One setting given outside hocon/: its HOCON path (e.g. <c>bank.persistence.write-timeout</c>), its value, where it came from.</summary>
public sealed record GivenSetting(string Path, string Value, string Origin);

/// <summary>A setting given outside hocon/ that names no setting: one line, the command stops (exit 2).</summary>
public sealed class SettingsException(string message) : Exception(message);

/// <summary>
/// The .NET way to configure a node, onto the same settings as hocon/: <c>appsettings.json</c>, then
/// <c>appsettings.{Environment}.json</c> (both in the working directory, as the generic host reads them), then
/// environment variables; a later source wins. Section <c>Bank</c> is <c>bank.*</c>, <c>Akka</c> is <c>akka.*</c>;
/// in a variable <c>__</c> separates keys and <c>_</c> stands for <c>-</c>, as Akka.Hosting reads them
/// (<c>BANK__PERSISTENCE__WRITE_TIMEOUT=2s</c> is <c>bank.persistence.write-timeout = 2s</c>).
/// </summary>
public static class AppSettings
{
    public const string FileName = "appsettings.json";

    /// <summary>
    /// A <c>BANK__NAME</c> with no further <c>__</c> (BANK__TLS, BANK__CONNECTION, BANK__TLS_PASSWORD...) is a variable
    /// of its own, read where it is used, never a setting: every <c>bank.*</c> setting sits in a section.
    /// </summary>
    public static bool IsVariableOfItsOwn(string name) =>
        name.StartsWith("BANK__", StringComparison.OrdinalIgnoreCase) && !name[6..].Contains("__", StringComparison.Ordinal);

    /// <summary>The environment's name: $DOTNET_ENVIRONMENT, else $ASPNETCORE_ENVIRONMENT, else Production (as the generic host).</summary>
    public static string EnvironmentName(IReadOnlyDictionary<string, string> environment) =>
        environment.GetValueOrDefault("DOTNET_ENVIRONMENT") is { Length: > 0 } dotnet ? dotnet
        : environment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT") is { Length: > 0 } aspnet ? aspnet
        : "Production";

    /// <summary>This process's variables.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => e.Value as string ?? "", StringComparer.Ordinal);

    /// <summary>The settings given in <paramref name="directory"/>'s appsettings files and in <paramref name="environment"/>, lowest precedence first.</summary>
    /// <exception cref="SettingsException">A <c>bank.*</c> key that hocon/ does not have (a typo would otherwise be ignored).</exception>
    public static IReadOnlyList<GivenSetting> Read(string directory, IReadOnlyDictionary<string, string> environment, Akka.Configuration.Config defaults)
    {
        var given = new List<GivenSetting>();
        foreach (var file in new[] { FileName, $"appsettings.{EnvironmentName(environment)}.json" })
            given.AddRange(FromFile(Path.Combine(directory, file), file));
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            if (FromVariable(name, value) is { } setting)
                given.Add(setting);

        foreach (var setting in given.Where(s => s.Path.StartsWith("bank.", StringComparison.Ordinal)))
            if (!defaults.HasPath(WithoutIndexes(setting.Path)))
                throw new SettingsException(
                    $"{setting.Origin} names no setting: {setting.Path} is not in hocon/ (the settings are listed in docs/configuration.md)");
        return given;
    }

    /// <summary>The value of <paramref name="key"/> (e.g. <c>Logging:Console:FormatterName</c>) in the appsettings files and the environment, the later winning; null when none sets it.</summary>
    public static string? Standard(string directory, IReadOnlyDictionary<string, string> environment, string key)
    {
        string? found = null;
        foreach (var file in new[] { FileName, $"appsettings.{EnvironmentName(environment)}.json" })
            if (Load(Path.Combine(directory, file))?[key] is { } value)
                found = value;
        var variable = key.Replace(":", "__", StringComparison.Ordinal);
        return environment.FirstOrDefault(e => string.Equals(e.Key, variable, StringComparison.OrdinalIgnoreCase)).Value ?? found;
    }

    private static IConfigurationRoot? Load(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return new ConfigurationBuilder().AddJsonFile(path, optional: true, reloadOnChange: false).Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new SettingsException($"{Path.GetFileName(path)} cannot be read: {e.GetBaseException().Message.ReplaceLineEndings(" ")}");
        }
    }

    private static IEnumerable<GivenSetting> FromFile(string path, string origin)
    {
        if (Load(path) is not { } root) return [];
        return root.AsEnumerable()
            .Where(e => e.Value is not null)
            .Select(e => (Keys: e.Key.Split(':'), e.Value))
            .Where(e => e.Keys.Length > 1 && Section(e.Keys[0]) is not null)
            .Select(e => new GivenSetting(
                Section(e.Keys[0]) + "." + string.Join('.', e.Keys.Skip(1).SelectMany(k => k.Split('.')).Select(k => k.ToLowerInvariant())),
                e.Value!, $"{origin} ({string.Join(':', e.Keys)})"))
            .OrderBy(s => s.Path, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary><c>BANK__A__B_C</c> or <c>AKKA__A__B_C</c> as <c>bank.a.b-c</c>; null for any other variable and for a variable of its own.</summary>
    public static GivenSetting? FromVariable(string name, string value)
    {
        var keys = name.Split("__");
        if (keys.Length < 2 || Section(keys[0]) is not { } section || IsVariableOfItsOwn(name) || keys.Any(k => k.Length == 0)) return null;
        return new GivenSetting(section + "." + string.Join('.', keys.Skip(1).Select(k => k.ToLowerInvariant().Replace('_', '-'))),
            value, $"environment {name}");
    }

    private static string? Section(string key) =>
        key.Equals("bank", StringComparison.OrdinalIgnoreCase) ? "bank"
        : key.Equals("akka", StringComparison.OrdinalIgnoreCase) ? "akka"
        : null;

    /// <summary><c>bank.serialization.remote-deployable.0</c> as <c>bank.serialization.remote-deployable</c>: an item of a list.</summary>
    private static string WithoutIndexes(string path) =>
        string.Join('.', path.Split('.').TakeWhile(k => !k.All(char.IsAsciiDigit)));
}
