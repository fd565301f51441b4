using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Accounts;

/// <summary>
/// Runs, on its node, the instances of accounts placed there for their resources, one per account at most. The
/// account's entity (an <see cref="AccountSupervisor"/>, wherever sharding keeps it) asks for one and watches it; this
/// actor watches the entity and stops the instance when the entity is gone. A new entity of the same account gets its
/// instance only after the old one has stopped, so two instances of an account never write at once. When the node
/// shuts down, it releases its instances before the node leaves the cluster (in the shard regions' phase of
/// CoordinatedShutdown): each entity stops its instance and moves the account, while no instance runs here any more.
/// </summary>
public sealed class PlacedInstances : ReceiveActor, IWithTimers
{
    // The path other nodes' entities address (see PathOn); kept from before the rename so that nodes of both builds meet.
    public const string Name = "bank-account-host";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly AccountSettings _settings;
    private readonly Dictionary<string, Placed> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (StartPlacedInstance Request, IActorRef Supervisor)> _waiting = new(StringComparer.Ordinal);
    private readonly string _node = Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();
    private IActorRef? _releasing;
    private int _started;

    public PlacedInstances(AccountSettings settings)
    {
        _settings = settings;
        Receive<StartPlacedInstance>(StartFor);
        Receive<Terminated>(Stopped);
        Receive<ReleaseAll>(_ => Release());
        Receive<ReleaseTimedOut>(_ =>
        {
            // Entities that did not stop their instance in time (busy, or cut off): stopped here.
            foreach (var placed in _byKey.Values.Where(h => !h.Stopping))
            {
                placed.Stopping = true;
                Context.Stop(placed.Instance);
            }
        });
    }

    /// <summary>How long a shutting-down node gives the entities to move their instances away.</summary>
    private static readonly TimeSpan ReleaseWithin = TimeSpan.FromSeconds(5);

    protected override void PreStart()
    {
        var self = Self;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseClusterShardingShutdownRegion, "release-placed-accounts",
            async () =>
            {
                try
                {
                    await self.Ask<ReleaseAll>(ReleaseAll.Instance, ReleaseWithin + TimeSpan.FromSeconds(2));
                }
                catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
                {
                    // The actor is gone already, or the instances are stopped with the actor system anyway.
                }

                return Akka.Done.Instance;
            });
    }

    /// <summary>The node shuts down: every entity is told to move its instance; answered once none runs here.</summary>
    private void Release()
    {
        _releasing = Sender;
        _waiting.Clear();
        foreach (var placed in _byKey.Values.Where(h => !h.Stopping))
            placed.Supervisor.Tell(new AccountInstanceReleased(placed.Key, _node));
        Timers.StartSingleTimer(nameof(ReleaseTimedOut), ReleaseTimedOut.Instance, ReleaseWithin);
        ReleasedIfEmpty();
    }

    private void ReleasedIfEmpty()
    {
        if (_releasing is null || _byKey.Count > 0) return;
        _releasing.Tell(ReleaseAll.Instance);
        _releasing = null;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(AccountSettings settings) => Props.Create(() => new PlacedInstances(settings));

    /// <summary>The <see cref="PlacedInstances"/> of the node at <paramref name="node"/> (an address such as akka.tcp://bank@host:port).</summary>
    public static string PathOn(string node) => $"{node}/user/{Name}";

    private void StartFor(StartPlacedInstance request)
    {
        var supervisor = Sender;
        // Shutting down: no new instance starts here; the entity's wait for it times out and it asks again.
        if (_releasing is not null) return;
        if (_byKey.TryGetValue(request.Key, out var placed))
        {
            if (placed.Supervisor.Equals(supervisor) && placed.Generation == request.Generation && !placed.Stopping)
            {
                supervisor.Tell(new PlacedInstanceStarted(request.Key, request.Generation), placed.Instance);
                return;
            }

            // Another entity of the account, or a new instance for the same one: the old instance stops first.
            _waiting[request.Key] = (request, supervisor);
            if (!placed.Stopping)
            {
                placed.Stopping = true;
                Context.Stop(placed.Instance);
            }

            return;
        }

        Start(request, supervisor);
    }

    private void Start(StartPlacedInstance request, IActorRef supervisor)
    {
        var instance = Context.ActorOf(SupervisedInstance.PropsFor(request.Key, _settings, supervisor),
            $"{Uri.EscapeDataString(request.Key)}-{++_started}");
        Context.Watch(instance);
        Context.Watch(supervisor);
        _byKey[request.Key] = new Placed(request.Key, request.Generation, instance, supervisor);
        _log.Debug("Running the instance of account {Key} for {Supervisor}", request.Key, supervisor.Path);
        supervisor.Tell(new PlacedInstanceStarted(request.Key, request.Generation), instance);
    }

    private void Stopped(Terminated terminated)
    {
        foreach (var placed in _byKey.Values.ToList())
        {
            if (placed.Supervisor.Equals(terminated.ActorRef) && !placed.Stopping)
            {
                // The entity is gone (its node died, or it stopped without telling us): so is its instance.
                placed.Stopping = true;
                Context.Stop(placed.Instance);
            }

            if (!placed.Instance.Equals(terminated.ActorRef)) continue;
            _byKey.Remove(placed.Key);
            if (_waiting.Remove(placed.Key, out var next)) Start(next.Request, next.Supervisor);
        }

        ReleasedIfEmpty();
    }

    private sealed record ReleaseAll
    {
        public static readonly ReleaseAll Instance = new();
    }

    private sealed record ReleaseTimedOut
    {
        public static readonly ReleaseTimedOut Instance = new();
    }

    private sealed class Placed(string key, int generation, IActorRef instance, IActorRef supervisor)
    {
        public string Key { get; } = key;

        public int Generation { get; } = generation;

        public IActorRef Instance { get; } = instance;

        public IActorRef Supervisor { get; } = supervisor;

        public bool Stopping { get; set; }
    }
}

/// <summary>An account's entity asks the <see cref="PlacedInstances"/> of the node the account is placed on to start its instance.</summary>
/// <param name="Generation">The entity's count of instances it started, so that a late answer is told from a fresh one.</param>
public sealed record StartPlacedInstance(string Key, int Generation) : IBankMessage;

/// <summary>The instance runs; it is the sender of this message.</summary>
public sealed record PlacedInstanceStarted(string Key, int Generation) : IBankMessage;

public static class PlacedInstancesHostingExtensions
{
    /// <summary>Starts this node's <see cref="PlacedInstances"/> at /user/bank-account-host.</summary>
    public static AkkaConfigurationBuilder WithPlacedInstances(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, _) => system.ActorOf(PlacedInstances.PropsFor(AccountSettings.From(system)), PlacedInstances.Name));
}
