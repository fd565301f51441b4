using Akka.Actor;
using Akka.Cluster;
using Akka.Coordination;
using Akka.Event;

namespace Bank.Hosting.Lease;

/// <summary>
/// Runs on every node of a cluster on a PostgreSQL journal and keeps the cluster's lease while its node is the oldest
/// Up member: the oldest is the one node every member agrees on, and it moves only when the oldest leaves or dies. A
/// new oldest takes the lease over from the earlier holders it saw in this cluster (owners are address#uid, so a
/// process started again at a dead node's address is not one of them). On a graceful stop the last member releases
/// the lease, so the same cluster can start again at once; a member that leaves others behind keeps it for them.
/// Not a cluster singleton: the take-over needs the members this node has seen since it joined, which a singleton
/// started on the new oldest would not have. A lease found held by an owner that was never a member of this cluster
/// means another cluster took the journal: the node shuts down (<see cref="JournalLeaseLost"/>), and so does each next
/// oldest in turn, so this cluster stops writing a journal it no longer owns.
/// </summary>
public sealed class LeaseKeeper : ReceiveActor, IWithTimers
{
    private sealed record Tick;

    private sealed record Acquired(bool Held);

    private sealed record Released;

    private sealed record Lost(string Why);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ClusterLease _lease = ClusterLease.Get(Context.System);
    private readonly HashSet<string> _seen = [];
    private readonly Dictionary<UniqueAddress, Member> _up = [];
    private bool _acquiring;
    private bool _leaving;

    public LeaseKeeper()
    {
        Receive<ClusterEvent.MemberUp>(up =>
        {
            _seen.Add(ClusterLease.OwnerOf(up.Member.UniqueAddress));
            _up[up.Member.UniqueAddress] = up.Member;
            Keep();
        });
        Receive<ClusterEvent.IMemberEvent>(gone =>
        {
            if (gone is ClusterEvent.MemberExited or ClusterEvent.MemberRemoved or ClusterEvent.MemberDowned)
                _up.Remove(gone.Member.UniqueAddress);
            Keep();
        });
        Receive<Tick>(_ => Keep());
        Receive<Acquired>(acquired =>
        {
            _acquiring = false;
            // Freed in between (no holder): try again at once.
            if (!acquired.Held)
                _lease.Lease.HolderAsync().PipeTo(Self, success: holder => holder is null ? new Tick() : holder, failure: e => new Status.Failure(e));
        });
        Receive<LeaseHolder>(OnHeldByAnother);
        Receive<Lost>(lost =>
        {
            _log.Warning("This cluster's lease on its journal was lost: {0}", lost.Why);
            Keep();
        });
        Receive<Status.Failure>(failure =>
        {
            _acquiring = false;
            _log.Warning("Could not take this journal's cluster lease: {0}", failure.Cause.Message);
        });
        Receive<ReleaseIfLast>(_ =>
        {
            // From now on this node keeps nothing: the lease is released, or left for the members that stay.
            _leaving = true;
            var others = _up.Keys.Any(node => !node.Equals(_cluster.SelfUniqueAddress));
            if (others || !_lease.Lease.CheckLease()) Sender.Tell(new Released());
            else _lease.Lease.Release().ContinueWith(_ => new Released(), TaskScheduler.Default).PipeTo(Sender);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new LeaseKeeper());

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        var keeper = Self;
        // However the lease was taken (by this keeper, or by the node's start before it formed the cluster).
        _lease.Lease.WhenLost(lost => keeper.Tell(new Lost(lost.Message)));
        var interval = Context.System.Settings.Config.GetTimeSpan($"{ClusterLease.ConfigPath}.heartbeat-interval", TimeSpan.FromSeconds(5));
        Timers.StartPeriodicTimer("keep", new Tick(), interval);
        var self = Self;
        // Before the cluster is left: the last member gives the lease up; the others are still Up then, and keep it.
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseClusterLeave, "release-cluster-lease", async () =>
        {
            try
            {
                await self.Ask<Released>(new ReleaseIfLast(), TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is AskTimeoutException or LeaseException or TaskCanceledException)
            {
                // It expires by itself after heartbeat-timeout.
            }

            return Akka.Done.Instance;
        });
    }

    /// <summary>The actor system is going away: its lease stops renewing (released already, or left to a successor, who
    /// takes it over, or to expire), so that a node stopped inside a process that goes on keeps nothing alive.</summary>
    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        _lease.Lease.StopRenewing();
    }

    /// <summary>The oldest Up member makes sure it holds the lease; the others only watch.</summary>
    private void Keep()
    {
        if (_leaving || _acquiring || !IsOldest() || _lease.Lease.CheckLease()) return;
        _acquiring = true;
        var predecessors = _seen.Where(owner => owner != _lease.Owner).ToList();
        _lease.Lease.AcquireFrom(predecessors, leaseLostCallback: null)
            .PipeTo(Self, success: held => new Acquired(held), failure: e => new Status.Failure(e));
    }

    /// <summary>
    /// The oldest could not take the lease: held by a member this node saw, it is being handed over within this cluster;
    /// held by any other owner, another cluster has the journal, and this node stops writing it.
    /// </summary>
    private void OnHeldByAnother(LeaseHolder holder)
    {
        if (_leaving) return;
        if (_seen.Contains(holder.Owner))
        {
            _log.Info("The journal's lease is held by {0}, a member of this cluster; taking it over at the next heartbeat", holder.Owner);
            return;
        }

        var why = ClusterLease.LostTo(holder);
        _log.Error(why);
        CoordinatedShutdown.Get(Context.System).Run(new JournalLeaseLost(why));
    }

    private bool IsOldest() =>
        _up.TryGetValue(_cluster.SelfUniqueAddress, out var self) && _up.Values.All(member => member.Equals(self) || self.IsOlderThan(member));

    private sealed record ReleaseIfLast;
}
