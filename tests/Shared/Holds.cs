using System.Diagnostics;

namespace Bank.Testing;

/// <summary>
/// The opposite of <see cref="Eventually"/> and of TestKit's AwaitAssert: an assertion that must stay true for a while,
/// which no TestKit call checks.
/// </summary>
public static class Holds
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Checks <paramref name="assertion"/> at once, then every <paramref name="interval"/> (half a second) until
    /// <paramref name="duration"/> has passed, and once more at its end; the first failure fails the test. What "still
    /// alive after the owner timeout" means.
    /// </summary>
    public static async Task ForAsync(TimeSpan duration, Func<Task> assertion, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        await assertion();
        while (clock.Elapsed < duration)
        {
            var left = duration - clock.Elapsed;
            var pause = interval ?? DefaultInterval;
            await Task.Delay(pause < left ? pause : left);
            await assertion();
        }
    }
}
