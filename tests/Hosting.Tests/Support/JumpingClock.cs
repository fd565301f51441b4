using System.Diagnostics;

namespace Bank.Hosting.Tests.Support;

/// <summary>A clock whose wall time can jump while its monotonic timestamps run on as the machine's do.</summary>
internal sealed class JumpingClock : TimeProvider
{
    private long _jumpedTicks;

    public void Jump(TimeSpan by) => Interlocked.Add(ref _jumpedTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _jumpedTicks));

    public override long GetTimestamp() => Stopwatch.GetTimestamp();

    public override long TimestampFrequency => Stopwatch.Frequency;
}
