using System.Diagnostics;
using System.Diagnostics.Metrics;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Metrics;

/// <summary>
/// The meter <c>Bank</c> and its instruments: what operators watch, exported by OpenTelemetry (<see cref="BankTelemetry"/>)
/// and read by the dashboard (<see cref="MetricsReader"/>). Instruments are process-wide, as the runtime's own are; the
/// gauges report each actor system of the process under its own <c>node</c> tag (<see cref="NodeFigures"/>).
/// </summary>
public static class BankMetrics
{
    public const string MeterName = "Bank";

    /// <summary>The outcome of a call that was answered as asked.</summary>
    public const string Ok = "ok";

    /// <summary>The outcome of a call that got no answer in time: what the client hears then (ClusterUnreachable, Timeout).</summary>
    public const string NoAnswer = "Timeout";

    public static readonly Meter Meter = new(MeterName, typeof(BankMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Client calls answered on this node, by kind and outcome (ok, or the refusal's code).</summary>
    public static readonly Counter<long> Calls = Meter.CreateCounter<long>("bank.calls", "{call}",
        "Client calls answered by this node, by kind and outcome");

    /// <summary>How long a client call took on this node, from its arrival to its answer.</summary>
    public static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("bank.call.duration", "s",
        "Time from a client call's arrival at this node to its answer");

    /// <summary>Journal appends in one committed transaction of the group committer.</summary>
    public static readonly Histogram<long> CommitBatchSize = Meter.CreateHistogram<long>("bank.journal.commit.batch_size", "{write}",
        "Writes committed together in one journal transaction");

    /// <summary>How long one journal transaction took to commit.</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("bank.journal.commit.duration", "s",
        "Time to write and commit one journal transaction");

    /// <summary>Journal writes that failed (refused rows, lost connections, timeouts, a full disk).</summary>
    public static readonly Counter<long> CommitFailures = Meter.CreateCounter<long>("bank.journal.commit.failures", "{write}",
        "Journal writes that failed");

    /// <summary>Restarts of account actors supervised on this node (each restart after a failure).</summary>
    public static readonly Counter<long> Restarts = Meter.CreateCounter<long>("bank.account.restarts", "{restart}",
        "Restarts of account actors after a failure");

    static BankMetrics()
    {
        Meter.CreateObservableGauge("bank.accounts.live", () => NodeFigures.Observe(f => f.LiveAccounts), "{account}",
            "Account instances running on this node");
        Meter.CreateObservableGauge("bank.accounts.alive", () => NodeFigures.Observe(f => f.AliveAccounts), "{account}",
            "Accounts ALIVE or RESTARTING in the registry (reported by the node holding the registry singleton); those not live on any node are passivated");
        Meter.CreateObservableGauge("bank.actors.pending", () => NodeFigures.Observe(f => f.PendingActors), "{actor}",
            "Opens waiting in the registry: PENDING_CREATION, e.g. for a node with the resources asked (reported by the registry's node)");
        Meter.CreateObservableGauge("bank.state_store.lag", () => NodeFigures.Observe(f => f.StateStoreLag), "{event}",
            "Journal events the state store has yet to take in (reported by the state store feeder's node)");
        Meter.CreateObservableGauge("bank.cluster_client.sessions", () => NodeFigures.Observe(f => f.ClusterClientSessions), "{session}",
            "ClusterClients connected to this node's receptionist");
    }

    /// <summary>
    /// Counts one call and its latency since <paramref name="started"/> (a <see cref="Stopwatch.GetTimestamp"/>), if
    /// <paramref name="kind"/> is a kind operators watch (see <see cref="KindOf"/>).
    /// </summary>
    public static void RecordCall(string? kind, string outcome, long started)
    {
        if (kind is null) return;
        var tags = new TagList { { "kind", kind }, { "outcome", outcome } };
        Calls.Add(1, tags);
        CallDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    /// <summary>
    /// The kind of a client call, or null for requests that are not counted (lookups, listings, inspection, internal
    /// account commands such as a transfer's refund).
    /// </summary>
    public static string? KindOf(object request) => request switch
    {
        AccountRequest call => KindOf(call.Command),
        NamedAccountRequest call => KindOf(call.Command),
        CorrelatedAccountRequest call => KindOf(call.Request.Command),
        CorrelatedNamedAccountRequest call => KindOf(call.Request.Command),
        TransferMoney => "transfer",
        OpenActor => "open",
        KillActor => "kill",
        _ => null,
    };

    private static string? KindOf(IAccountCommand command) => command switch
    {
        Deposit => "deposit",
        Withdraw => "withdraw",
        GetBalance => "balance",
        _ => null,
    };

    /// <summary>ok, or the code of the refusal (e.g. InsufficientFunds), as the caller hears it.</summary>
    public static string OutcomeOf(object answer) => answer switch
    {
        Rejected rejected => rejected.Code,
        CorrelatedAccountReply { Rejected: { } rejected } => rejected.Code,
        _ => Ok,
    };
}
