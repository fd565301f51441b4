using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;

namespace Bank.Hosting.Metrics;

/// <summary>
/// What one actor system of this process has now, for <see cref="BankMetrics"/>' gauges: each room sets its figure where
/// it already knows it (no query per scrape), and a scrape reads every system's figures under its <c>node</c> tag.
/// A figure a node does not have (the registry's, on a node without the singleton) is not reported by that node.
/// </summary>
public sealed class NodeFigures : IExtension
{
    private static readonly ConcurrentDictionary<NodeFigures, string> Systems = new();

    private long _liveAccounts;
    private long _aliveAccounts = -1;
    private long _pendingActors = -1;
    private long _stateStoreLag = -1;
    private long _clusterClientSessions = -1;

    internal NodeFigures(ExtendedActorSystem system)
    {
        Systems[this] = system.Provider.DefaultAddress.ToString();
        system.WhenTerminated.ContinueWith(_ => Systems.TryRemove(this, out string? _), TaskScheduler.Default);
    }

    public static NodeFigures For(ActorSystem system) => system.WithExtension<NodeFigures, NodeFiguresProvider>();

    /// <summary>Account instances running in this actor system.</summary>
    public long LiveAccounts => Interlocked.Read(ref _liveAccounts);

    /// <summary>Accounts ALIVE or RESTARTING in the registry, where the registry singleton runs; else -1 (not reported).</summary>
    public long AliveAccounts
    {
        get => Interlocked.Read(ref _aliveAccounts);
        set => Interlocked.Exchange(ref _aliveAccounts, value);
    }

    /// <summary>Opens PENDING_CREATION in the registry, where the registry singleton runs; else -1 (not reported).</summary>
    public long PendingActors
    {
        get => Interlocked.Read(ref _pendingActors);
        set => Interlocked.Exchange(ref _pendingActors, value);
    }

    /// <summary>Journal events the state store has yet to take in, where its feeder runs; else -1 (not reported).</summary>
    public long StateStoreLag
    {
        get => Interlocked.Read(ref _stateStoreLag);
        set => Interlocked.Exchange(ref _stateStoreLag, value);
    }

    /// <summary>ClusterClients connected to this node's receptionist; -1 until the receptionist has said.</summary>
    public long ClusterClientSessions
    {
        get => Interlocked.Read(ref _clusterClientSessions);
        set => Interlocked.Exchange(ref _clusterClientSessions, value);
    }

    public void AccountStarted() => Interlocked.Increment(ref _liveAccounts);

    public void AccountStopped() => Interlocked.Decrement(ref _liveAccounts);

    /// <summary>The figure of every actor system of the process that has one, each under its node's address.</summary>
    internal static IEnumerable<Measurement<long>> Observe(Func<NodeFigures, long> figure)
    {
        foreach (var (figures, node) in Systems)
        {
            var value = figure(figures);
            if (value >= 0) yield return new Measurement<long>(value, new KeyValuePair<string, object?>("node", node));
        }
    }
}

public sealed class NodeFiguresProvider : ExtensionIdProvider<NodeFigures>
{
    public override NodeFigures CreateExtension(ExtendedActorSystem system) => new(system);
}
