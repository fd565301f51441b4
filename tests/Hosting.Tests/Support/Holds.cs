using System.Diagnostics;

namespace Bank.Hosting.Tests.Support;

/// <summary>The opposite of AwaitAssert: an assertion that must stay true, checked twice a second, for a while.</summary>
public static class Holds
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Checks <paramref name="assertion"/> at once, then every half second until <paramref name="duration"/> has passed;
    /// the first failure fails the test. What "still alive after the owner timeout" means.
    /// </summary>
    public static async Task ForAsync(TimeSpan duration, Func<Task> assertion)
    {
        var clock = Stopwatch.StartNew();
        await assertion();
        while (clock.Elapsed < duration)
        {
            await Task.Delay(Interval);
            await assertion();
        }
    }
}
