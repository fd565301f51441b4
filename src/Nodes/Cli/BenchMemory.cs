using System.Diagnostics;
using System.Globalization;

namespace Bank.Nodes.Cli;

/// <summary>One look at this process's memory during a soak, with how far the load had got.</summary>
/// <param name="WorkingSetMb">The process's resident memory, read right after the collection.</param>
/// <param name="HeapMb">What the managed heap holds after a full collection: live objects only.</param>
public sealed record MemorySample(TimeSpan Elapsed, long Ops, double OpsPerSecond, double WorkingSetMb, double HeapMb)
{
    private const double Mb = 1024.0 * 1024;

    /// <summary>
    /// A full, blocking collection first, so that the heap figure is what is still referenced (a leak) and not
    /// garbage the collector has yet to reach; it costs a pause of some milliseconds every sample.
    /// </summary>
    public static MemorySample Take(TimeSpan elapsed, long ops, double opsPerSecond)
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return new MemorySample(elapsed, ops, opsPerSecond, process.WorkingSet64 / Mb, heap / Mb);
    }

    public const string CsvHeader = "elapsed_s,ops,ops_per_s,working_set_mb,gc_heap_mb";

    public string Csv() => string.Create(CultureInfo.InvariantCulture,
        $"{Elapsed.TotalSeconds:0.0},{Ops},{OpsPerSecond:0.0},{WorkingSetMb:0.0},{HeapMb:0.0}");

    /// <summary>The line printed on stderr as the soak goes.</summary>
    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"soak: {(int)Elapsed.TotalHours:0}:{Elapsed.Minutes:00}:{Elapsed.Seconds:00} {Ops} ops ({OpsPerSecond:0}/s), " +
        $"working set {WorkingSetMb:0.0} MB, GC heap {HeapMb:0.0} MB");
}

/// <summary>Memory growth over a soak: the least-squares slope of memory against time, in MB per hour.</summary>
public static class MemoryGrowth
{
    /// <summary>The first minutes fill caches, pools and the JIT's code; growth is measured from here on.</summary>
    public static readonly TimeSpan SettledAfter = TimeSpan.FromMinutes(10);

    /// <summary>MB per hour over the samples from <see cref="SettledAfter"/> on; null with fewer than three of them.</summary>
    public static double? SlopeMbPerHour(IReadOnlyList<MemorySample> samples, Func<MemorySample, double> mb)
    {
        var settled = samples.Where(s => s.Elapsed >= SettledAfter).ToList();
        if (settled.Count < 3) return null;
        var meanX = settled.Average(s => s.Elapsed.TotalHours);
        var meanY = settled.Average(mb);
        var covariance = settled.Sum(s => (s.Elapsed.TotalHours - meanX) * (mb(s) - meanY));
        var variance = settled.Sum(s => Math.Pow(s.Elapsed.TotalHours - meanX, 2));
        return variance == 0 ? null : covariance / variance;
    }

    /// <summary>The first sample at or after <paramref name="at"/>, if the run got that far.</summary>
    public static MemorySample? At(IReadOnlyList<MemorySample> samples, TimeSpan at) => samples.FirstOrDefault(s => s.Elapsed >= at);
}
