using System.CommandLine;
using Bank.Hosting.Configuration;

namespace Bank.Nodes.Cli;

/// <summary>`bank start`'s log format: text lines, or one JSON object a line for a log collector.</summary>
public sealed partial class StartCommand
{
    /// <summary>The standard .NET key that names the console's formatter (appsettings, or $Logging__Console__FormatterName).</summary>
    public const string FormatterKey = "Logging:Console:FormatterName";

    private static readonly Option<string?> LogFormat = new("--log-format")
    {
        HelpName = "text|json",
        Description = "The node's log on stderr: text (default), or json, one JSON object a line; else the standard " +
                      $"{FormatterKey} (appsettings.json or $Logging__Console__FormatterName) when it says json.",
        CompletionSources = { "text", "json" },
    };

    /// <summary>Whether the node logs JSON: --log-format, else the standard logging configuration.</summary>
    private static bool JsonLogs(ParseResult parsed)
    {
        var format = parsed.GetValue(LogFormat)
                     ?? AppSettings.Standard(Directory.GetCurrentDirectory(), AppSettings.ProcessEnvironment(), FormatterKey)
                     ?? "text";
        return format.ToLowerInvariant() switch
        {
            "json" => true,
            "text" or "simple" or "systemd" => false,
            _ => throw new UsageException($"--log-format must be text or json, not '{Bank.Domain.TextEcho.OneLine(format)}'"),
        };
    }
}
