using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting.Logging;

namespace Bank.Hosting;

/// <summary>
/// Akka's log events into the generic host's logging, like <see cref="LoggerFactoryLogger"/>, minus those the actor
/// system's log filters exclude (that logger does not apply them itself), and with passwords masked
/// (<see cref="ConnectionSecrets"/>).
/// </summary>
public sealed partial class FilteringLoggerFactoryLogger : LoggerFactoryLogger
{
    private readonly LogFilterEvaluator _filter = Context.System.Settings.LogFilter;

    protected override void Log(LogEvent log, ActorPath path)
    {
        var text = log.Message?.ToString() ?? "";
        if (_filter.ShouldTryKeepMessage(log, out _) && !JoinWatch.IsJoinNoise(Context.System, text) && !BootstrapProbeReport().IsMatch(text)
            && ClientDisconnect(log) is { } kept)
            base.Log(Masked(kept), path);
    }

    /// <summary>
    /// A client process that ends or dies disassociates its actor system from the node, which Akka reports as an ERROR
    /// and a WARNING, each with a stack trace, though nothing is wrong with the node: the ERROR becomes one INFO line
    /// naming the client, the WARNING goes. Anything else, a node's own disassociation included, is returned as it is.
    /// </summary>
    public static LogEvent? ClientDisconnect(LogEvent log)
    {
        if (log is not (Error or Warning)) return log;
        var text = log.Message?.ToString() ?? "";
        var client = ClientAddress().Match(Uri.UnescapeDataString(log.LogSource ?? "") + " " + text);
        if (!client.Success || !$"{text} {log.Cause?.Message}".Contains("Disassociated", StringComparison.Ordinal))
            return log;
        return log is Error ? new Info(null, log.LogSource, log.LogClass, $"Client {client.Value} disconnected") : null;
    }

    [GeneratedRegex(@"akka\.(?:ssl\.)?tcp://bank-client@[\w.\-]+:\d+")]
    private static partial Regex ClientAddress();

    /// <summary>
    /// Cluster bootstrap probes every contact point each second until enough answer: one not up yet is expected (nodes
    /// start in any order), and Akka.Management reports each try with a stack trace. Akka's log filter (NodeLogFilter)
    /// let these through when given this pattern, so it is checked here, on the text.
    /// </summary>
    [GeneratedRegex(@"^Probing \[[^\]]*\] failed due to|^Overdue of probing-failure-timeout")]
    private static partial Regex BootstrapProbeReport();

    /// <summary>The event, or a copy with its text and its cause's masked when either quotes a password.</summary>
    public static LogEvent Masked(LogEvent log)
    {
        var message = log.Message?.ToString() ?? "";
        var cause = log.Cause?.ToString();
        var maskedMessage = ConnectionSecrets.Hide(message);
        var maskedCause = cause is null ? null : ConnectionSecrets.Hide(cause);
        if (maskedMessage == message && maskedCause == cause) return log;
        Exception? hidden = maskedCause is null ? null : new MaskedException(maskedCause);
        return log switch
        {
            Error => new Error(hidden, log.LogSource, log.LogClass, maskedMessage),
            Warning => new Warning(hidden, log.LogSource, log.LogClass, maskedMessage),
            Info => new Info(hidden, log.LogSource, log.LogClass, maskedMessage),
            _ => new Debug(hidden, log.LogSource, log.LogClass, maskedMessage),
        };
    }

    /// <summary>A cause whose text had a password: only the masked text goes on.</summary>
    private sealed class MaskedException(string text) : Exception(text)
    {
        public override string ToString() => Message;
    }
}

/// <summary>
/// Akka's minimal logger for a node (<c>akka.stdout-logger-class</c>), which writes nothing. Akka falls back to it before
/// the node's loggers start and after they stop, and then its multi-line reports (a TLS handshake that failed as the
/// node stopped) would reach stdout, a command's own output, past every filter; `stdout-loglevel = OFF` alone did not
/// keep them off (one run in twelve of a TLS worker refused by a plain seed printed one). What a node has to say before
/// or after its loggers run, it says itself, in one line.
/// </summary>
public sealed class SilentStdoutLogger : MinimalLogger
{
    protected override void Log(object message)
    {
    }
}
