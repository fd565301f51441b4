using Bank.Domain;
namespace Bank.Nodes.Cli;

/// <summary>
/// The words after a command: positionals, `--name value` options and `--flag` switches. Every option must be one
/// the command declares, so a typo is a usage error, not silently ignored.
/// </summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    private Arguments()
    {
    }

    public IReadOnlyList<string> Positionals => _positionals;

    /// <param name="args">The words after the command name.</param>
    /// <param name="valueOptions">Options that take a value, without the leading dashes.</param>
    /// <param name="switches">Options that take none.</param>
    public static Arguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> switches)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Count; i++)
        {
            var word = args[i];
            if (!word.StartsWith("--", StringComparison.Ordinal) || word == "--")
            {
                parsed._positionals.Add(word);
                continue;
            }

            var name = word[2..];
            string? inlineValue = null;
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            if (switches.Contains(name) && inlineValue is null)
            {
                parsed._options[name] = null;
            }
            else if (valueOptions.Contains(name))
            {
                var value = inlineValue ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"--{name} needs a value"));
                parsed._options[name] = value;
            }
            else
            {
                throw new UsageException($"unknown option '--{TextEcho.OneLine(name)}'");
            }
        }

        return parsed;
    }

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Value(string name) => _options.GetValueOrDefault(name);

    public void ExpectPositionals(int count, string usage)
    {
        if (_positionals.Count != count)
            throw new UsageException(_positionals.Count > count
                ? $"unexpected argument '{TextEcho.OneLine(_positionals[count])}'; usage: {usage}"
                : $"missing argument; usage: {usage}");
    }

}
