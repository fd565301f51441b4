using System.Globalization;

namespace Bank.Benchmarks.Plot;

// `plot --soak SAMPLES.csv OUTPUT.png`: the memory samples of `bank bench --duration D --samples FILE` over time, with
// the least-squares line from minute 10 on (the growth the soak reports) drawn over each series.
internal static class SoakPlot
{
    public const string Usage = "usage: plot --soak SAMPLES.csv OUTPUT.png [--title \"...\"]";

    private static readonly TimeSpan SettledAfter = TimeSpan.FromMinutes(10);

    public static string Draw(string input, string output, string title)
    {
        var samples = Read(input);
        var plot = new ScottPlot.Plot();
        var minutes = samples.Select(s => s.Seconds / 60).ToArray();
        var table = new System.Text.StringBuilder("| series | at 10 min (MB) | at the end (MB) | growth after 10 min (MB/h) |\n| --- | ---: | ---: | ---: |\n");
        foreach (var (name, values) in new[] { ("working set", samples.Select(s => s.WorkingSetMb).ToArray()), ("GC heap after a full collection", samples.Select(s => s.HeapMb).ToArray()) })
        {
            var line = plot.Add.Scatter(minutes, values);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 0;
            var settled = Enumerable.Range(0, samples.Count).Where(i => samples[i].Seconds >= SettledAfter.TotalSeconds).ToArray();
            if (settled.Length < 3) continue;
            var (slopePerMinute, intercept) = Fit(settled.Select(i => minutes[i]).ToArray(), settled.Select(i => values[i]).ToArray());
            var from = minutes[settled[0]];
            var to = minutes[^1];
            var fit = plot.Add.Line(from, intercept + slopePerMinute * from, to, intercept + slopePerMinute * to);
            fit.LineWidth = 1;
            fit.LinePattern = ScottPlot.LinePattern.Dashed;
            fit.Color = line.Color;
            fit.LegendText = string.Create(CultureInfo.InvariantCulture, $"{name}: {slopePerMinute * 60:0.0} MB/h after 10 min");
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {values[settled[0]]:0.0} | {values[^1]:0.0} | {slopePerMinute * 60:0.0} |"));
        }

        var settledLine = plot.Add.VerticalLine(SettledAfter.TotalMinutes);
        settledLine.LinePattern = ScottPlot.LinePattern.Dotted;
        settledLine.Color = ScottPlot.Colors.Gray;
        plot.Title(title);
        plot.XLabel("minutes");
        plot.YLabel("MB");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Axes.AutoScale();
        // From zero, so that a few MB of drift is not drawn as a cliff.
        plot.Axes.SetLimitsY(0, samples.Max(s => Math.Max(s.WorkingSetMb, s.HeapMb)) * 1.25);
        plot.SavePng(output, 1000, 600);
        return table.ToString();
    }

    private static (double Slope, double Intercept) Fit(double[] x, double[] y)
    {
        var (mx, my) = (x.Average(), y.Average());
        var slope = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my)) / x.Sum(v => (v - mx) * (v - mx));
        return (slope, my - slope * mx);
    }

    private static List<Sample> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != "elapsed_s,ops,ops_per_s,working_set_mb,gc_heap_mb")
            throw new FormatException($"{path}: not the samples of `bank bench --duration D --samples FILE` (its first line is the header)");
        var samples = new List<Sample>();
        foreach (var (line, n) in lines.Skip(1).Select((l, i) => (l, i + 2)).Where(l => l.l.Length > 0))
        {
            var f = line.Split(',');
            if (f.Length != 5 || !double.TryParse(f[0], CultureInfo.InvariantCulture, out var seconds)
                || !double.TryParse(f[3], CultureInfo.InvariantCulture, out var workingSet)
                || !double.TryParse(f[4], CultureInfo.InvariantCulture, out var heap))
                throw new FormatException($"{path}:{n}: want elapsed_s,ops,ops_per_s,working_set_mb,gc_heap_mb");
            samples.Add(new Sample(seconds, workingSet, heap));
        }

        return samples.Count > 0 ? samples : throw new FormatException($"{path}: no samples to plot");
    }

    private sealed record Sample(double Seconds, double WorkingSetMb, double HeapMb);
}
