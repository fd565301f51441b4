using Akka.Actor;
using Akka.Event;
using Akka.Hosting.Logging;

namespace Bank.Hosting;

/// <summary>
/// Akka's log events into the generic host's logging, like <see cref="LoggerFactoryLogger"/>, minus those the actor
/// system's log filters exclude (that logger does not apply them itself).
/// </summary>
public sealed class FilteringLoggerFactoryLogger : LoggerFactoryLogger
{
    private readonly LogFilterEvaluator _filter = Context.System.Settings.LogFilter;

    protected override void Log(LogEvent log, ActorPath path)
    {
        if (_filter.ShouldTryKeepMessage(log, out _))
            base.Log(log, path);
    }
}
