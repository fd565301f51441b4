using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Rendering;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Nodes.Cli;

/// <summary>What a command prints: lines for people, or with --json exactly one JSON object on stdout.</summary>
public sealed class Output(TextWriter stdout, TextWriter stderr, bool json)
{
    // One line per object, and text as it is (a '+' in a time, an apostrophe in a message), not \uXXXX escapes; stdout is not HTML.
    private static readonly JsonSerializerOptions OneLineJson = new()
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public bool Json { get; } = json;

    public TextWriter Stdout { get; } = stdout;

    /// <summary>Progress for people while a long command runs (a soak's samples); stdout keeps only the result.</summary>
    public TextWriter Stderr { get; } = stderr;

    public void Line(string text) => Stdout.WriteLine(text);

    public void PrintJson(JsonObject value) => Stdout.WriteLine(value.ToJsonString(OneLineJson));

    /// <summary>
    /// Prints a one-line error on stderr (or the JSON error object) and returns the exit code for its kind; with OutcomeUnknown the JSON names what to resend with (request_id, and
    /// first_sent for a deposit or withdrawal) so that a script need not parse the message.
    /// </summary>
    public int Error(ErrorKind kind, string message, int exitCode, string? requestId = null, DateTimeOffset? firstSent = null)
    {
        // No password reaches a user's screen or a log collector, whatever the failure quoted.
        message = Bank.Hosting.ConnectionSecrets.Hide(message);
        if (Json)
        {
            var error = new JsonObject { ["kind"] = kind.ToString(), ["message"] = message };
            if (requestId is not null) error["request_id"] = requestId;
            if (firstSent is { } at) error["first_sent"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            PrintJson(new JsonObject { ["error"] = error });
        }
        else
            Stderr.WriteLine($"error: {message}");
        return exitCode;
    }

    public static string StateName(ActorState state) => state.Display();

    /// <summary>The fields of `open` and `get` (DESIGN.md section 4), and a few more.</summary>
    public static JsonObject ActorJson(ActorInfo actor) => new()
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
        ["resources"] = ResourcesJson(actor.Resources),
    };

    /// <summary>Resources as a JSON object of name to number (memory in bytes), in name order; <c>{}</c> when there are none.</summary>
    public static JsonObject ResourcesJson(IReadOnlyDictionary<string, decimal>? amounts) =>
        new((amounts ?? new Dictionary<string, decimal>()).OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => KeyValuePair.Create(a.Key, (JsonNode?)JsonValue.Create(WithoutTrailingZeros(a.Value)))));

    /// <summary>What an actor holds, for a table cell: <c>cpu=1,gpu=4,memory=500MiB,accelerator_x=1</c>, or "-" when nothing.</summary>
    public static string ResourcesCell(ResourceSet held) =>
        held.IsEmpty
            ? "-"
            : string.Join(",", InRayOrder(held.Amounts).Select(a => $"{a.Key}={ResourceSet.Describe(a.Key, a.Value)}"));

    /// <summary>cpu, gpu, memory, then custom resources by name: the order Ray's options come in.</summary>
    public static IEnumerable<KeyValuePair<string, decimal>> InRayOrder(IEnumerable<KeyValuePair<string, decimal>> amounts) =>
        amounts.OrderBy(a => a.Key switch { ResourceSet.Cpu => 0, ResourceSet.Gpu => 1, ResourceSet.Memory => 2, _ => 3 })
            .ThenBy(a => a.Key, StringComparer.Ordinal);

    /// <summary>The amount without trailing zeros (1, not 1.0000), as a JSON number prints it.</summary>
    private static decimal WithoutTrailingZeros(decimal amount) => amount / 1.0000000000000000000000000000m;

    /// <summary>Colour only on a terminal: never in a pipe, a file, a test, with --json, or with NO_COLOR set.</summary>
    public bool Colour { get; } = !json && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected
                                  && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    /// <summary>
    /// Aligned columns, two spaces apart, through Spectre.Console without borders (specs and scripts split the lines on
    /// spaces); <paramref name="colour"/> picks a cell's colour (row, column), if any, shown only when <see cref="Colour"/>.
    /// </summary>
    public void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows,
        Func<IReadOnlyList<string>, int, Color?>? colour = null)
    {
        var table = new Table().Border(TableBorder.None);
        for (var i = 0; i < headers.Count; i++)
            table.AddColumn(new TableColumn(new Text(headers[i], Colour ? new Style(decoration: Decoration.Bold) : Style.Plain))
            {
                Padding = new Padding(0, 0, i == headers.Count - 1 ? 0 : 2, 0),
                NoWrap = true,
            });
        foreach (var row in rows)
            table.AddRow(row.Select((cell, i) => (IRenderable)new Text(cell, Colour && colour?.Invoke(row, i) is { } c ? new Style(c) : Style.Plain)));

        // Rendered into a string, as wide as it needs (a table is never wrapped), then written line by line without
        // the padding Spectre adds after the last cell.
        var rendered = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = Colour ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = Colour ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(rendered),
        });
        console.Profile.Width = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)) + 2).Sum() + 1;
        console.Write(table);
        foreach (var line in rendered.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'))
            Line(line.TrimEnd());
    }
}
