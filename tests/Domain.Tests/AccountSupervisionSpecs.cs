using Bank.Domain;
using Xunit;

namespace Bank.Domain.Tests;

/// <summary>Drives an <see cref="AccountSupervision{TCall}"/> (callers are strings) and keeps the effects of the last input.</summary>
internal sealed class Supervised
{
    public const string Here = "akka.tcp://bank@127.0.0.1:4000";
    public const string There = "akka.tcp://bank@127.0.0.1:4001";
    // A monotonic reading (elapsed since some start), as the supervisor decides with.
    public static readonly TimeSpan T0 = TimeSpan.FromHours(8);
    public static readonly TimeSpan PendingTimeout = TimeSpan.FromSeconds(30);

    public Supervised(bool registry = true, bool faults = true) =>
        State = new AccountSupervision<string>(new AccountSupervisionConfig("k", Here, PendingTimeout, registry, faults));

    public AccountSupervision<string> State { get; private set; }

    public IReadOnlyList<ISupervisionEffect> Effects { get; private set; } = [];

    /// <summary>An account opened with <paramref name="supervision"/>, its instance running here and no call held.</summary>
    public static Supervised Running(Supervision supervision, bool registry = true)
    {
        var run = new Supervised(registry)
            .Do(new CallArrived<string>("opener", new OpenAccount(10m, 0m, "inc-1", supervision.MaxRestarts, supervision.MaxTaskRetries)))
            .Do(new InstanceStarted("inc-1", supervision, 0, HoldsResources: false, FromCurrentInstance: true));
        return run.Do(new InstanceAnswered(run.State.LastSeq));
    }

    public Supervised Do(ISupervisionInput input, TimeSpan? at = null)
    {
        var decision = State.Decide(input, at ?? T0);
        State = decision.Next;
        Effects = decision.Effects;
        return this;
    }

    public Supervised Call(string caller, IAccountCommand command, string? placement = null, TimeSpan? at = null) =>
        Do(new CallArrived<string>(caller, command, placement), at);

    public Supervised Crash(bool injected = false) => Do(new InstanceCrashed("InvalidOperationException: boom", injected, FromCurrentInstance: true));

    public Supervised Restart() => Do(new InstanceStarted(State.Incarnation, State.Budget.Supervision, 0, State.Placement.HoldsResources, true));

    public IEnumerable<T> All<T>() => Effects.OfType<T>();

    public T One<T>() => Assert.Single(Effects.OfType<T>());

    public SupervisionRefusal RefusalOf(string caller) => Assert.Single(All<RefuseCall<string>>(), r => r.Caller == caller).Refusal;

    public IReadOnlyList<string> Sent => All<SendToInstance<string>>().Select(s => s.Call.Caller ?? s.Call.Command.GetType().Name).ToList();
}
