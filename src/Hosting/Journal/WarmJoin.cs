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
    private bool _joined;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Func<Task<bool>>? _mayForm;

    private sealed record MayForm(bool Granted);

    /// <param name="mayForm">Asked before the node forms a new cluster (joins itself, having no seeds): false keeps it
    /// out, and whoever answered has said why (the journal's cluster lease). Null: it always may.</param>
    public WarmJoin(IReadOnlyList<Address> seeds, TimeSpan timeout, Func<Task<bool>>? mayForm = null)
    {
        _mayForm = mayForm;
        Context.Watch(Context.ActorOf(Props.Create(() => new EmptyStream()), "stream"));
        Context.SetReceiveTimeout(timeout);
        Receive<EmptyStream.Recovered>(_ => Join(seeds));
        Receive<Terminated>(_ => Join(seeds));
        Receive<ReceiveTimeout>(_ =>
        {
            _log.Warning("The journal did not answer a recovery within {0}; joining the cluster cold", timeout);
            Join(seeds);
        });
        Receive<MayForm>(may =>
        {
            if (may.Granted) JoinSelf();
            else Context.Stop(Self);
        });
        Receive<Status.Failure>(_ => Context.Stop(Self));
    }

    private void Join(IReadOnlyList<Address> seeds)
    {
        if (_joined) return;
        _joined = true;
        _log.Info("Joining the cluster {0:0} ms after start, the journal warm-up done", Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
        if (seeds.Count > 0)
        {
            Cluster.Get(Context.System).JoinSeedNodes(seeds);
            Context.Stop(Self);
        }
        else if (_mayForm is null) JoinSelf();
        else _mayForm().PipeTo(Self, success: granted => new MayForm(granted), failure: e => new Status.Failure(e));
    }

    private void JoinSelf()
    {
        var cluster = Cluster.Get(Context.System);
        cluster.Join(cluster.SelfAddress);
        Context.Stop(Self);
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
    /// <param name="mayForm">Asked before the node forms a new cluster (see <see cref="WarmJoin"/>); null: always.</param>
    public static AkkaConfigurationBuilder WithWarmJoin(this AkkaConfigurationBuilder builder, IReadOnlyList<string> seeds,
        Func<ActorSystem, Task<bool>>? mayForm = null) =>
        builder.AddStartup((system, _) =>
        {
            var timeout = system.Settings.Config.GetTimeSpan("bank.persistence.warm-up-timeout", TimeSpan.FromSeconds(10));
            var addresses = seeds.Select(Address.Parse).ToList();
            Func<Task<bool>>? gate = mayForm is null ? null : () => mayForm(system);
            system.ActorOf(Props.Create(() => new WarmJoin(addresses, timeout, gate)), "warm-join");
        });
}
