using System.Diagnostics;
using System.Globalization;

namespace Bank.Nodes.Cli;

/// <summary>
/// A phase of `bank bench` that counts what it has done and, once it has run two intervals, writes a line on stderr
/// every interval (done/total, the rate over the last interval, time elapsed), so that a stall shows while it happens;
/// stdout keeps only the result.
/// </summary>
internal sealed class BenchProgress : IAsyncDisposable
{
    private readonly string phase;
    private readonly long? total;
    private readonly TextWriter stderr;
    private readonly TimeSpan every;
    private readonly CancellationTokenSource stop = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Task reporting;
    private long done;

    private BenchProgress(string phase, long? total, TextWriter stderr, TimeSpan every)
    {
        (this.phase, this.total, this.stderr, this.every) = (phase, total, stderr, every);
        reporting = every > TimeSpan.Zero ? ReportAsync() : Task.CompletedTask;
    }

    /// <summary>Starts counting <paramref name="phase"/> (of <paramref name="total"/> when it is known); no lines when <paramref name="every"/> is zero.</summary>
    public static BenchProgress Start(string phase, long? total, TextWriter stderr, TimeSpan every) => new(phase, total, stderr, every);

    public void Done() => Interlocked.Increment(ref done);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await reporting;
        stop.Dispose();
    }

    private async Task ReportAsync()
    {
        try
        {
            // A phase shorter than two intervals says nothing: most runs are.
            await Task.Delay(every, stop.Token);
            var (last, lastAt) = (Interlocked.Read(ref done), clock.Elapsed);
            while (true)
            {
                await Task.Delay(every, stop.Token);
                var (now, at) = (Interlocked.Read(ref done), clock.Elapsed);
                var rate = (now - last) / Math.Max((at - lastAt).TotalSeconds, 1e-6);
                var of = total is { } all ? $"{now} of {all}" : $"{now}";
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bench: {phase}: {of} done, {rate:0}/s over the last {(at - lastAt).TotalSeconds:0.#} s, {at.TotalSeconds:0.#} s elapsed"));
                (last, lastAt) = (now, at);
            }
        }
        catch (OperationCanceledException)
        {
            // The phase is over.
        }
    }
}
