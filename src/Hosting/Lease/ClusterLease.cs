using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Coordination;
using Akka.Hosting;

namespace Bank.Hosting.Lease;

/// <summary>
/// The one cluster that may write a PostgreSQL journal: it holds <see cref="LeaseName"/> in the journal's database. A
/// node that forms a new cluster acquires it first (<see cref="FormAsync"/>) and is refused, in one line naming the
/// holder, while another live cluster holds it; nodes that join a running cluster take nothing. Once Up, the oldest
/// member keeps it renewed (<see cref="LeaseKeeper"/>), taking it over from an earlier holder of the same cluster.
/// </summary>
public sealed class ClusterLease : IExtension
{
    /// <summary>The lease's name: one per journal database.</summary>
    public const string LeaseName = "bank-cluster";

    /// <summary>Settings of the lease (hocon/lease.hocon): heartbeat-timeout, heartbeat-interval, lease-operation-timeout.</summary>
    public const string ConfigPath = "bank.lease";

    private readonly ExtendedActorSystem _system;
    private readonly TaskCompletionSource<string> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClusterLease(ExtendedActorSystem system)
    {
        _system = system;
        _system.Settings.InjectTopLevelFallback(LeaseProvider.DefaultConfig());
    }

    public static ClusterLease Get(ActorSystem system) => system.WithExtension<ClusterLease, ClusterLeaseProvider>();

    /// <summary>Completes with the one-line reason when this node may not form a cluster on its journal.</summary>
    public Task<string> Refused => _refused.Task;

    /// <summary>This node's name as a holder: its address and the uid of this incarnation, so that a node started
    /// again at the same address is a new owner, not the dead one.</summary>
    public string Owner => OwnerOf(Cluster.Get(_system).SelfUniqueAddress);

    /// <summary>The lease as this node holds it (one instance per owner, from Akka's <see cref="LeaseProvider"/>).</summary>
    public PostgresLease Lease => (PostgresLease)LeaseProvider.Get(_system).GetLease(LeaseName, ConfigPath, Owner);

    public static string OwnerOf(UniqueAddress node) => $"{node.Address}#{node.Uid}";

    /// <summary>
    /// Acquires the lease before this node forms a new cluster (joins itself): true when it may. False when another
    /// cluster holds it or the database cannot tell; <see cref="Refused"/> then says why.
    /// </summary>
    public async Task<bool> FormAsync()
    {
        try
        {
            if (await Lease.Acquire()) return true;
            _refused.TrySetResult(Refusal(await Lease.HolderAsync()));
        }
        catch (LeaseException unknown)
        {
            _refused.TrySetResult($"this node cannot tell whether another cluster owns its journal: {unknown.Message}");
        }

        return false;
    }

    /// <summary>The refusal line: who holds the lease, since when, and when it expires unless renewed.</summary>
    public static string Refusal(LeaseHolder? holder)
    {
        if (holder is null) return "another cluster was forming on this journal at the same moment; start this node again";
        var owner = holder.Owner.Split('#')[0];
        var hostPort = owner.Contains('@') ? owner[(owner.IndexOf('@') + 1)..] : owner;
        return $"the journal is owned by a running cluster: its lease is held by {owner} since {holder.Since:yyyy-MM-dd HH:mm:ss}Z " +
               $"and expires in {Math.Ceiling(holder.ExpiresIn.TotalSeconds):0} s unless renewed; join that cluster " +
               $"(--address {hostPort}), or start this one again once the lease has expired";
    }

    /// <summary>The line a node stops with when another cluster took its journal's lease, naming the new owner.</summary>
    public static string LostTo(LeaseHolder holder) =>
        $"another cluster took this journal's lease: it is held by {holder.Owner.Split('#')[0]} since {holder.Since:yyyy-MM-dd HH:mm:ss}Z; " +
        "this node stops so that two clusters never write one journal";
}

public sealed class ClusterLeaseProvider : ExtensionIdProvider<ClusterLease>
{
    public override ClusterLease CreateExtension(ExtendedActorSystem system) => new(system);
}

public static class ClusterLeaseHostingExtensions
{
    /// <summary>
    /// Keeps the journal's cluster lease while this node is the oldest member, with a PostgreSQL journal; with SQLite
    /// nothing (its data folder's lock file keeps a second process out). The node forms a cluster only after
    /// <see cref="ClusterLease.FormAsync"/> said yes (see WarmJoin).
    /// </summary>
    public static AkkaConfigurationBuilder WithClusterLease(this AkkaConfigurationBuilder builder, bool postgresJournal)
    {
        if (!postgresJournal) return builder;
        var settings = new List<string> { $"lease-class = \"{typeof(PostgresLease).AssemblyQualifiedName}\"" };
        // BANK__lease__<key> from the environment, as the appsettings/environment binding of issue 18 names it; it lets
        // a spec (or an operator) shorten the timeout of a node it starts.
        foreach (var key in new[] { "heartbeat-timeout", "heartbeat-interval" })
            if (Environment.GetEnvironmentVariable($"BANK__lease__{key}") is { Length: > 0 } value)
                settings.Add($"{key} = \"{value.Replace("\"", "", StringComparison.Ordinal)}\"");
        return builder
            .AddHocon(ConfigurationFactory.ParseString($"{ClusterLease.ConfigPath} {{ {string.Join('\n', settings)} }}"), HoconAddMode.Prepend)
            .AddStartup((system, _) => system.ActorOf(LeaseKeeper.Props(), "cluster-lease"));
    }
}
