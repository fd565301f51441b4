using System.Globalization;
using System.Text.Json;

namespace Bank.Benchmarks.Plot;

// Turns the JSON lines of `bank bench ... --json` (and of the Orleans peer's --json, a series of its own) into a
// throughput-vs-concurrency PNG and a markdown summary.
// Usage: plot INPUT.jsonl OUTPUT.png [--title "..."] [--font FILE.ttf]
// With --soak first: the memory samples of a soak over time instead (see SoakPlot).
internal static class Program
{
    private const int Ok = 0;
    private const int Failed = 1;
    private const int BadInput = 2;
    private const string Usage = "usage: plot INPUT.jsonl OUTPUT.png [--title \"...\"] [--font FILE.ttf]";

    private static int Main(string[] args)
    {
        try
        {
            if (args.Length > 0 && args[0] == "--soak") return Soak(args[1..]);
            var (input, output, title, font) = ParseArgs(args, "Deposits/s against concurrent callers", Usage);
            var points = Summarise(Read(input));
            ChooseFont(font);
            Console.Write(Table(points));
            Draw(points, output, title);
            return Ok;
        }
        catch (PlotException e)
        {
            // One line, no stack trace: the caller is a person or a script reading stderr.
            Console.Error.WriteLine($"plot: {e.Message}");
            return e.ExitCode;
        }
    }

    private static int Soak(string[] args)
    {
        var (input, output, title, font) = ParseArgs(args, "Memory over a soak", SoakPlot.Usage);
        ChooseFont(font);
        try
        {
            Console.Write(SoakPlot.Draw(input, output, title));
            return Ok;
        }
        catch (FormatException e)
        {
            throw new PlotException(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotException(e.Message, Failed);
        }
    }

    private static (string Input, string Output, string Title, string? Font) ParseArgs(string[] args, string title, string usage)
    {
        var positional = new List<string>();
        string? font = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--title" or "--font")
            {
                if (i + 1 == args.Length) throw new PlotException($"{args[i]} needs a value; {usage}");
                if (args[i] == "--title") title = args[++i];
                else font = args[++i];
            }
            else positional.Add(args[i]);
        }

        if (positional.Count != 2) throw new PlotException(usage);
        return (positional[0], positional[1], title, font);
    }

    private static List<Run> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotException($"cannot read {path}: {e.Message}");
        }

        var runs = new List<Run>();
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            // Blank and '#' lines let people annotate or separate batches of runs in one file.
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var where = $"{path}:{n + 1}";
            try
            {
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                if (o.ValueKind != JsonValueKind.Object) throw new PlotException($"{where}: not a JSON object");
                var concurrency = o.GetProperty("concurrency").GetInt32();
                // Concurrency goes on a log2 axis, so it must be positive.
                if (concurrency < 1) throw new PlotException($"{where}: concurrency must be at least 1");
                runs.Add(new Run(
                    SeriesOf(o, where),
                    concurrency,
                    o.GetProperty("ops_per_s").GetDouble(),
                    o.GetProperty("p99_ms").GetDouble()));
            }
            catch (JsonException e)
            {
                throw new PlotException($"{where}: not valid JSON ({e.Message})");
            }
            catch (KeyNotFoundException)
            {
                throw new PlotException($"{where}: needs ops_per_s, p99_ms, concurrency, journal and state_store (or system orleans)");
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                // Thrown by GetInt32/GetDouble/GetString when a field has the wrong JSON type.
                throw new PlotException($"{where}: a field has the wrong type ({e.Message})");
            }
        }

        if (runs.Count == 0) throw new PlotException($"{path}: no results to plot");
        return runs;
    }

    // bank's runs are a series per journal and state store; the Orleans peer (benchmarks/OrleansPeer) has no store.
    private static string SeriesOf(JsonElement o, string where) =>
        o.TryGetProperty("system", out var system) && system.GetString() == "orleans"
            ? "Orleans, memory grain storage"
            : $"{o.GetProperty("journal").GetString() ?? throw new PlotException($"{where}: journal is null")}, " +
              $"store {o.GetProperty("state_store").GetString() ?? throw new PlotException($"{where}: state_store is null")}";

    // Repeated runs at the same (series, concurrency) are averaged so each series has one point per concurrency.
    private static List<Point> Summarise(List<Run> runs) =>
        runs.GroupBy(r => (r.Series, r.Concurrency))
            .Select(g => new Point(g.Key.Series, g.Key.Concurrency,
                g.Average(r => r.OpsPerSecond), g.Average(r => r.P99Ms), g.Count()))
            .OrderBy(p => p.Series, StringComparer.Ordinal).ThenBy(p => p.Concurrency)
            .ToList();

    private static string Table(List<Point> points)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("| series | concurrency | ops/s (mean of runs) | p99 ms (mean) | runs |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var p in points)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {p.Series} | {p.Concurrency} | {p.OpsPerSecond:0.0} | {p.P99Ms:0.00} | {p.Runs} |"));
        return text.ToString();
    }

    private static void Draw(List<Point> points, string output, string title)
    {
        var plot = new ScottPlot.Plot();
        foreach (var series in points.GroupBy(p => p.Series))
        {
            // X is log2(concurrency) because callers usually grow by powers (1, 10, 100, ...) and would bunch up at the left.
            var line = plot.Add.Scatter(series.Select(p => Math.Log2(p.Concurrency)).ToArray(),
                series.Select(p => p.OpsPerSecond).ToArray());
            line.LegendText = series.Key;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        // Tick labels show the real concurrency values at their log2 positions.
        var levels = points.Select(p => p.Concurrency).Distinct().Order().ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            levels.Select(c => Math.Log2(c)).ToArray(),
            levels.Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray());

        plot.Title(title);
        plot.XLabel("concurrent callers (log2 scale)");
        plot.YLabel("deposits/s");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Axes.AutoScale();
        // Throughput starts at zero so differences between series are not visually exaggerated.
        plot.Axes.SetLimitsY(0, points.Max(p => p.OpsPerSecond) * 1.15);

        try
        {
            plot.SavePng(output, 1000, 600);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotException($"cannot write {output}: {e.Message}", Failed);
        }
    }

    // Picks the typeface for all text; without one ScottPlot silently draws a chart with no labels at all.
    private static void ChooseFont(string? file)
    {
        if (file is null)
        {
            // With no fonts at all, Skia still lists one family with an empty name.
            var families = SkiaSharp.SKFontManager.Default.FontFamilies.Where(f => f.Length > 0).ToList();
            // Skia's default is simply the first family it finds (here a serif); a plain sans reads better on a chart.
            var sans = families.FirstOrDefault(f => f.Contains("Sans") && !f.Contains("Mono") && !f.Contains("Narrow"));
            if (sans is not null) ScottPlot.Fonts.Default = sans;
            if (families.Count > 0) return;
            // The Linux SkiaSharp that ScottPlot brings scans only /usr/share/fonts; try the other usual places.
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            file = new[] { "/usr/local/share/fonts", Path.Combine(home, ".local/share/fonts"), Path.Combine(home, ".fonts") }
                .Where(Directory.Exists)
                .SelectMany(d => Directory.EnumerateFiles(d, "*.ttf", SearchOption.AllDirectories))
                .FirstOrDefault()
                ?? throw new PlotException("no fonts found; install one (e.g. apt-get install fonts-dejavu-core) or pass --font FILE.ttf", Failed);
        }

        using var typeface = SkiaSharp.SKTypeface.FromFile(file);
        if (typeface is null || typeface.GlyphCount == 0) throw new PlotException($"{file}: not a usable font file", BadInput);
        // Titles and axis labels ask for bold; register the one file for every style or they come out blank.
        foreach (var bold in new[] { false, true })
            foreach (var italic in new[] { false, true })
                ScottPlot.Fonts.AddFontFile(typeface.FamilyName, file, bold, italic);
        ScottPlot.Fonts.Default = typeface.FamilyName;
    }

    private sealed record Run(string Series, int Concurrency, double OpsPerSecond, double P99Ms);

    private sealed record Point(string Series, int Concurrency, double OpsPerSecond, double P99Ms, int Runs);

    // Carries the exit code so Main can report any expected failure as one line.
    private sealed class PlotException(string message, int exitCode = BadInput) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;
    }
}
