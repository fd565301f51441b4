using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Bank.Nodes.Cli;

/// <summary>
/// What the measured deposits allocate, by type: the runtime's allocation samples (one event per ~100 KB allocated by
/// a thread, naming the type of the object that crossed the mark), heard in this process while it counts. The shares
/// are statistical; over a run of a few hundred MB each type's share is within a few percent.
/// </summary>
internal sealed class BenchAllocations : EventListener
{
    // The runtime's provider, its GC keyword, and the event it raises every ~100 KB a thread allocates (GCAllocationTick_V4).
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTick = 10;

    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _counting;

    /// <summary>Starts counting (the listener is enabled as it is made; samples before this call are ignored).</summary>
    public void Start() => _counting = true;

    public void Stop() => _counting = false;

    /// <summary>The <paramref name="top"/> types by sampled bytes, each with its share of all sampled bytes.</summary>
    public IReadOnlyList<(string Type, double Share)> Top(int top)
    {
        var total = Math.Max(1, _bytesByType.Values.Sum());
        return [.. _bytesByType.OrderByDescending(t => t.Value).Take(top).Select(t => (t.Key, t.Value / (double)total))];
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeProvider) EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_counting || e.EventId != AllocationTick || e.Payload is not { } payload || e.PayloadNames is not { } names) return;
        var type = names.IndexOf("TypeName") is var t and >= 0 ? payload[t] as string : null;
        var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (type is not null) _bytesByType.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}
