using Akka.Actor;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Accounts;

/// <summary>
/// What an account's supervisor tells the registry again until it answers: where the incarnation must run (asked every
/// second), and its death (every two seconds, so that it reaches the registry even across a handover of its singleton).
/// Made only for the accounts that need it, and its timers only when used: Akka's timer scheduler would cost every live
/// account a scheduler and a dictionary. A late tick is harmless: the model ignores it once answered.
/// </summary>
public sealed class RegistryReports(IActorRef registry, string key, IActorRef supervisor, IScheduler scheduler)
{
    private static readonly TimeSpan AskEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(2);

    private ICancelable? _askAgain;
    private ICancelable? _reportAgain;

    public void AskWhereToRun(string incarnation, string? leaving)
    {
        registry.Tell(new WhereToRun(key, incarnation, leaving));
        _askAgain?.Cancel();
        _askAgain = scheduler.ScheduleTellOnceCancelable(AskEvery, supervisor, AskAgain.Instance, supervisor);
    }

    public void StopAsking() => _askAgain?.Cancel();

    /// <summary>The supervisor's tick to report the death (it sends <see cref="ActorFailed"/> with what it knows then).</summary>
    public void StartFailureReports() =>
        _reportAgain = scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.Zero, ReportEvery, supervisor, ReportAgain.Instance, supervisor);

    public void StopFailureReports() => _reportAgain?.Cancel();

    public void Cancel()
    {
        _askAgain?.Cancel();
        _reportAgain?.Cancel();
    }

    /// <summary>Tick: the registry did not say where to run within a second.</summary>
    public sealed record AskAgain
    {
        public static readonly AskAgain Instance = new();
    }

    /// <summary>Tick: tell the registry of the death again.</summary>
    public sealed record ReportAgain
    {
        public static readonly ReportAgain Instance = new();
    }
}
