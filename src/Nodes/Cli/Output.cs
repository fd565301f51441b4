using System.Text.Json;
using System.Text.Json.Nodes;
using Bank.Hosting.Accounts;
using Bank.Hosting.Registry;

namespace Bank.Nodes.Cli;

/// <summary>What a command prints: lines for people, or with --json exactly one JSON object on stdout.</summary>
public sealed class Output(TextWriter stdout, TextWriter stderr, bool json)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = false };

    public bool Json { get; } = json;

    public TextWriter Stdout { get; } = stdout;

    public void Line(string text) => Stdout.WriteLine(text);

    public void Object(JsonObject value) => Stdout.WriteLine(value.ToJsonString(Indented));

    /// <summary>Prints a one-line error (or the JSON error object) and returns the exit code for its kind.</summary>
    public int Error(ErrorKind kind, string message, int exitCode)
    {
        if (Json)
            Object(new JsonObject { ["error"] = new JsonObject { ["kind"] = kind.ToString(), ["message"] = message } });
        else
            stderr.WriteLine($"error: {message}");
        return exitCode;
    }

    public static string StateName(ActorState state) => state switch
    {
        ActorState.PendingCreation => "PENDING_CREATION",
        ActorState.Alive => "ALIVE",
        ActorState.Restarting => "RESTARTING",
        _ => "DEAD",
    };

    /// <summary>The fields of `open` and `get` (DESIGN.md section 4), and a few more.</summary>
    public static JsonObject Actor(ActorInfo actor) => new()
    {
        ["name"] = actor.Name,
        ["key"] = actor.Key,
        ["id"] = actor.Id,
        ["state"] = StateName(actor.State),
        ["node"] = actor.Node,
        ["detached"] = actor.Detached,
        ["restarts"] = actor.Restarts,
        ["max_restarts"] = actor.MaxRestarts,
        ["max_task_retries"] = actor.MaxTaskRetries,
        ["death_cause"] = actor.DeathCause,
    };

    /// <summary>Aligned columns for a terminal.</summary>
    public void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        Line(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
            Line(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }
}
