using System.Globalization;
using System.Text;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Bank.Hosting.Configuration;

/// <summary>A setting as a node sees it: its value and where that value came from.</summary>
public sealed record EffectiveSetting(string Path, string Value, string Origin);

/// <summary>
/// A node's settings, by precedence: flags (applied by code over this), then BANK__/AKKA__ environment variables, then
/// appsettings.{Environment}.json, then appsettings.json (<see cref="AppSettings"/>), then the hocon/ defaults.
/// Every node and client of the process starts from <see cref="Current"/>.
/// </summary>
public sealed class BankConfiguration
{
    private static readonly Lazy<BankConfiguration> Loaded = new(() =>
        From(AppSettings.Read(System.IO.Directory.GetCurrentDirectory(), AppSettings.ProcessEnvironment(), BankHocon.Defaults)));

    private BankConfiguration(IReadOnlyList<GivenSetting> given, Config config)
    {
        Given = given;
        Config = config;
    }

    /// <summary>This process's: its working directory's appsettings files and its environment, read once.</summary>
    /// <exception cref="SettingsException">A file that is not JSON, or a bank.* key hocon/ does not have.</exception>
    public static BankConfiguration Current => Loaded.Value;

    /// <summary>What appsettings and the environment set, lowest precedence first.</summary>
    public IReadOnlyList<GivenSetting> Given { get; }

    /// <summary>The given settings over the hocon/ defaults.</summary>
    public Config Config { get; }

    public static BankConfiguration From(IReadOnlyList<GivenSetting> given) =>
        new(given, given.Count == 0 ? BankHocon.Defaults : ConfigurationFactory.ParseString(ToHocon(given)).WithFallback(BankHocon.Defaults));

    /// <summary>Every setting of hocon/ and every one given, with its value and origin, in path order (values as written, not masked).</summary>
    public IReadOnlyList<EffectiveSetting> Effective(IEnumerable<GivenSetting>? flags = null)
    {
        var settings = new SortedDictionary<string, EffectiveSetting>(StringComparer.Ordinal);
        foreach (var (file, layer) in BankHocon.Layers)
            foreach (var (path, value) in Leaves(layer.Root, ""))
                settings[path] = new EffectiveSetting(path, value, file);
        foreach (var setting in Given.Concat(flags ?? []))
        {
            // A list given item by item (roles.0, roles.1) replaces the list of hocon/ as a whole.
            foreach (var item in settings.Keys.Where(k => k.StartsWith(setting.Path + ".", StringComparison.Ordinal)).ToList())
                settings.Remove(item);
            settings[setting.Path] = new EffectiveSetting(setting.Path, setting.Value, setting.Origin);
        }

        return [.. settings.Values];
    }

    private static IEnumerable<(string Path, string Value)> Leaves(HoconValue value, string path)
    {
        if (value.IsObject())
        {
            foreach (var (key, child) in value.GetObject().Items)
                foreach (var leaf in Leaves(child, path.Length == 0 ? Quoted(key) : $"{path}.{Quoted(key)}"))
                    yield return leaf;
        }
        else if (value.IsArray())
            yield return (path, "[" + string.Join(", ", value.GetArray().Select(v => v.IsString() ? v.GetString() : v.ToString())) + "]");
        else
            yield return (path, value.GetString() ?? "");
    }

    /// <summary>A key with a dot or a quote (a type name in serialization-bindings) is written quoted, as HOCON reads it.</summary>
    private static string Quoted(string key) =>
        key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? key : HoconString(key);

    /// <summary>The given settings as HOCON: every key and value quoted (a value stays a string, which Akka reads as a number, a duration or a switch); keys 0, 1, ... make a list.</summary>
    public static string ToHocon(IEnumerable<GivenSetting> given)
    {
        var root = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var setting in given)
        {
            var keys = setting.Path.Split('.');
            var node = root;
            foreach (var key in keys[..^1])
            {
                if (!node.TryGetValue(key, out var child) || child is not SortedDictionary<string, object> inner)
                    node[key] = inner = new SortedDictionary<string, object>(StringComparer.Ordinal);
                node = inner;
            }

            node[keys[^1]] = setting.Value;
        }

        var text = new StringBuilder();
        Write(root, text);
        return text.ToString();
    }

    private static void Write(SortedDictionary<string, object> node, StringBuilder text)
    {
        foreach (var (key, value) in node)
        {
            text.Append(HoconString(key)).Append(" = ");
            WriteValue(value, text);
            text.Append('\n');
        }
    }

    private static void WriteValue(object value, StringBuilder text)
    {
        if (value is string leaf)
        {
            text.Append(HoconString(leaf));
            return;
        }

        var node = (SortedDictionary<string, object>)value;
        if (node.Count > 0 && node.Keys.All(k => k.All(char.IsAsciiDigit)))
        {
            text.Append('[');
            var first = true;
            foreach (var item in node.OrderBy(i => int.Parse(i.Key, CultureInfo.InvariantCulture)))
            {
                if (!first) text.Append(", ");
                first = false;
                WriteValue(item.Value, text);
            }

            text.Append(']');
            return;
        }

        text.Append("{\n");
        Write(node, text);
        text.Append('}');
    }

    private static string HoconString(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return text.Append('"').ToString();
    }
}
