using System.Diagnostics;

namespace Bank.Testing;

/// <summary>
/// Waits for a condition that has no event to wait for (a cluster's membership, what a `bank` process prints): checks
/// it now and then until it holds or the time is up. Specs with a TestKit use its AwaitAssert instead.
/// </summary>
public static class Eventually
{
    /// <summary>How long a wait lasts unless a caller says otherwise: what a busy machine needs for a cluster to settle.</summary>
    public static readonly TimeSpan DefaultWithin = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Completes once <paramref name="condition"/> holds; a <see cref="TimeoutException"/> naming <paramref name="what"/>
    /// after <paramref name="within"/> (<see cref="DefaultWithin"/>), checking every <paramref name="interval"/> (100 ms).
    /// </summary>
    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan? within = null, TimeSpan? interval = null) =>
        ReadsAsync(() => Task.FromResult(condition()), holds => holds, what, within, interval);

    /// <inheritdoc cref="HoldsAsync(Func{bool}, string, TimeSpan?, TimeSpan?)"/>
    public static Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null, TimeSpan? interval = null) =>
        ReadsAsync(condition, holds => holds, what, within, interval);

    /// <summary>
    /// Reads until <paramref name="holds"/> is true of what was read, and returns that; a <see cref="TimeoutException"/>
    /// naming <paramref name="what"/> and showing the last reading (through <paramref name="show"/>) after
    /// <paramref name="within"/>. An exception from <paramref name="read"/> or <paramref name="holds"/> fails at once.
    /// </summary>
    public static async Task<T> ReadsAsync<T>(Func<Task<T>> read, Func<T, bool> holds, string what, TimeSpan? within = null,
        TimeSpan? interval = null, Func<T, string>? show = null)
    {
        var limit = within ?? DefaultWithin;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var last = await read();
            if (holds(last)) return last;
            if (clock.Elapsed >= limit)
                throw new TimeoutException($"waited {limit.TotalSeconds} s for {what}; last: {(show is null ? last?.ToString() : show(last))}");
            await Task.Delay(interval ?? DefaultInterval);
        }
    }
}
