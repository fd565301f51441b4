using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;

namespace Bank.Hosting.Journal;

/// <summary>
/// A node recovers one empty persistent actor before it joins its cluster, so that its journal and snapshot plugins are
/// loaded, compiled and connected before any shard is given to it. A node that joins cold gets the emptiest regions'
/// share of a dead node's shards at once, and the first recoveries (transfer shards' remembered entities above all) then
/// miss sharding's 5 s load timeout and wait a backoff and a second load: failover took 15-19 s instead of under 10. The
/// warm-up itself took 2-3 s on a quiet 2-core machine and 6 s during the chaos spec (docs/benchmarks.md#failover).
/// The join goes ahead after <c>bank.persistence.warm-up-timeout</c> or a failed recovery: a journal that is down at start
/// is the breakers' business, not a reason to stay out of the cluster.
/// </summary>
public sealed class WarmJoin : ReceiveActor
{
    /// <summary>The one stream every node recovers and no one writes.</summary>
    public const string PersistenceId = "bank-warm-up";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Action<ActorSystem> _join;
    private readonly Func<Task<bool>>? _mayForm;
    private readonly long _started = Stopwatch.GetTimestamp();
    private bool _joined;

    private sealed record MayForm(bool Granted);

    /// <summary>Joins <paramref name="seeds"/> (the node itself when there are none) once warm, whatever the lease.</summary>
    public WarmJoin(IReadOnlyList<Address> seeds, TimeSpan timeout) : this(system => JoinSeeds(system, seeds), timeout)
    {
    }

    /// <param name="join">How the node joins once warm: its seeds, itself, or Akka.Management's cluster bootstrap.</param>
    /// <param name="timeout">How long the warm-up may take before the node joins cold.</param>
    /// <param name="mayForm">Asked first when the join forms a new cluster: false keeps the node out, and whoever answered
    /// has said why (the journal's cluster lease). Null: it always may.</param>
    public WarmJoin(Action<ActorSystem> join, TimeSpan timeout, Func<Task<bool>>? mayForm = null)
    {
        _join = join;
        _mayForm = mayForm;
        Context.Watch(Context.ActorOf(Props.Create(() => new EmptyStream()), "stream"));
        Context.SetReceiveTimeout(timeout);
        Receive<EmptyStream.Recovered>(_ => Join());
        Receive<Terminated>(_ => Join());
        Receive<ReceiveTimeout>(_ =>
        {
            _log.Warning("The journal did not answer a recovery within {0}; joining the cluster cold", timeout);
            Join();
        });
        Receive<MayForm>(may =>
        {
            if (may.Granted) _join(Context.System);
            Context.Stop(Self);
        });
        Receive<Status.Failure>(_ => Context.Stop(Self));
    }

    /// <summary>Joins <paramref name="seeds"/>, or the node itself when there are none (a one-node cluster or the head).</summary>
    public static void JoinSeeds(ActorSystem system, IReadOnlyList<Address> seeds)
    {
        var cluster = Cluster.Get(system);
        if (seeds.Count == 0) cluster.Join(cluster.SelfAddress);
        else cluster.JoinSeedNodes(seeds);
    }

    private void Join()
    {
        if (_joined) return;
        _joined = true;
        _log.Info("Joining the cluster {0:0} ms after start, the journal warm-up done", Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
        if (_mayForm is null)
        {
            _join(Context.System);
            Context.Stop(Self);
        }
        else _mayForm().PipeTo(Self, success: granted => new MayForm(granted), failure: e => new Status.Failure(e));
    }

    /// <summary>Recovers <see cref="PersistenceId"/> (a snapshot load, a replay, the highest sequence number) and stops.</summary>
    private sealed class EmptyStream : UntypedPersistentActor
    {
        public sealed record Recovered;

        public override string PersistenceId => WarmJoin.PersistenceId;

        protected override void OnRecover(object message)
        {
            if (message is not RecoveryCompleted) return;
            Context.Parent.Tell(new Recovered());
            Context.Stop(Self);
        }

        protected override void OnCommand(object message) => Unhandled(message);
    }
}

public static class WarmJoinHostingExtensions
{
    /// <summary>
    /// Joins <paramref name="seeds"/> (the node itself when there are none) once the journal has answered a recovery; the
    /// cluster options must name no seed nodes, or Akka would join at start.
    /// </summary>
    /// <param name="mayForm">Asked before the node forms a new cluster (no seeds; see <see cref="WarmJoin"/>); null: always.</param>
    public static AkkaConfigurationBuilder WithWarmJoin(this AkkaConfigurationBuilder builder, IReadOnlyList<string> seeds,
        Func<ActorSystem, Task<bool>>? mayForm = null)
    {
        var addresses = seeds.Select(Address.Parse).ToList();
        return builder.WithWarmJoin(system => WarmJoin.JoinSeeds(system, addresses), addresses.Count == 0 ? mayForm : null);
    }

    /// <summary>Calls <paramref name="join"/> once the journal has answered a recovery (or the warm-up timed out).</summary>
    public static AkkaConfigurationBuilder WithWarmJoin(this AkkaConfigurationBuilder builder, Action<ActorSystem> join,
        Func<ActorSystem, Task<bool>>? mayForm = null) =>
        builder.AddStartup((system, _) =>
        {
            var timeout = system.Settings.Config.GetTimeSpan("bank.persistence.warm-up-timeout", TimeSpan.FromSeconds(10));
            Func<Task<bool>>? gate = mayForm is null ? null : () => mayForm(system);
            system.ActorOf(Props.Create(() => new WarmJoin(join, timeout, gate)), "warm-join");
        });
}
