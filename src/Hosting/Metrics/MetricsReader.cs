using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;

namespace Bank.Hosting.Metrics;

/// <summary>
/// The figures of <see cref="BankMetrics"/> as the dashboard shows them: totals of the meter's counters and histograms
/// heard by a <see cref="MeterListener"/> since the reader started (as the scrape endpoint counts since its exporter
/// started), and the node's gauges as the scrape reads them.
/// </summary>
public sealed class MetricsReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Kind, string Outcome), long> _calls = new();
    private long _callNanos;
    private long _callCount;
    private long _commits;
    private long _committedWrites;
    private long _commitFailures;
    private long _restarts;

    public MetricsReader()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == BankMetrics.MeterName && instrument is not ObservableInstrument<long>)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (ReferenceEquals(instrument, BankMetrics.Calls))
            _calls.AddOrUpdate((Tag(tags, "kind"), Tag(tags, "outcome")), value, (_, total) => total + value);
        else if (ReferenceEquals(instrument, BankMetrics.CommitBatchSize))
        {
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _committedWrites, value);
        }
        else if (ReferenceEquals(instrument, BankMetrics.CommitFailures)) Interlocked.Add(ref _commitFailures, value);
        else if (ReferenceEquals(instrument, BankMetrics.Restarts)) Interlocked.Add(ref _restarts, value);
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!ReferenceEquals(instrument, BankMetrics.CallDuration)) return;
        Interlocked.Add(ref _callNanos, (long)(value * 1e9));
        Interlocked.Increment(ref _callCount);
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
            if (tag.Key == name)
                return tag.Value as string ?? string.Empty;
        return string.Empty;
    }

    /// <summary>What the dashboard's <c>/api/state</c> answers under <c>metrics</c>, for the node of <paramref name="system"/>.</summary>
    public object Read(ActorSystem system)
    {
        var figures = NodeFigures.For(system);
        var calls = Interlocked.Read(ref _callCount);
        return new
        {
            Calls = _calls.OrderBy(c => c.Key.Kind, StringComparer.Ordinal).ThenBy(c => c.Key.Outcome, StringComparer.Ordinal)
                .Select(c => new { c.Key.Kind, c.Key.Outcome, Count = c.Value }).ToList(),
            MeanCallSeconds = calls == 0 ? 0 : Interlocked.Read(ref _callNanos) / 1e9 / calls,
            JournalCommits = Interlocked.Read(ref _commits),
            JournalWrites = Interlocked.Read(ref _committedWrites),
            JournalFailures = Interlocked.Read(ref _commitFailures),
            Restarts = Interlocked.Read(ref _restarts),
            LiveAccounts = figures.LiveAccounts,
            AliveAccounts = Reported(figures.AliveAccounts),
            PendingActors = Reported(figures.PendingActors),
            StateStoreLag = Reported(figures.StateStoreLag),
            ClusterClientSessions = Reported(figures.ClusterClientSessions),
        };
    }

    private static long? Reported(long figure) => figure < 0 ? null : figure;

    public void Dispose() => _listener.Dispose();
}
