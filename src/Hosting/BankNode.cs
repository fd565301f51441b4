using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Bank.Hosting.Configuration;
using Bank.Hosting.Door;
using Bank.Hosting.Gateway;
using Bank.Hosting.Inspection;
using Bank.Hosting.Journal;
using Bank.Hosting.Lease;
using Bank.Hosting.Metrics;
using Bank.Hosting.Placement;
using Bank.Hosting.Registry;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Resources;
using Bank.Hosting.Serialization;
using Bank.Hosting.Transfers;
using Bank.Hosting.StateStore;
using Bank.Hosting.Accounts;
using Bank.Hosting.Bootstrap;
using Bank.Hosting.Security;
using Bank.Hosting.Web;

namespace Bank.Hosting;

/// <summary>What a Bank node is: where it listens, whom it joins, where it keeps its data.</summary>
public sealed record BankNodeOptions
{
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Addresses (host:port) of seed nodes. Empty: the node is its own seed, a one-node cluster.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>What the node decides liveness and expiry with (its monotonic timestamps); a fake one in tests.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Journal and snapshot store; when null, what <c>bank.persistence</c> in hocon/persistence.hocon says.</summary>
    public BankPersistenceOptions? Persistence { get; init; }

    /// <summary>
    /// The resources this node advertises (cpu, gpu, memory in bytes, custom ones); they also give its roles. Null: the
    /// processor count and the memory of this machine, and no GPU (the `bank` command also asks nvidia-smi).
    /// </summary>
    public ResourceSet? Resources { get; init; }

    /// <summary>
    /// The node's certificate (`--tls DIR`): the cluster port then speaks mutual TLS and admits only node certificates of
    /// the same CA. Null: plain text, as on loopback.
    /// </summary>
    public TlsIdentity? Tls { get; init; }

    /// <summary>
    /// With <see cref="Tls"/>, the port of the node's client door, where clients connect (the cluster port admits nodes
    /// only). Null: <see cref="Port"/> + 1 when the port is fixed, a free port when it is 0.
    /// </summary>
    public int? ClientPort { get; init; }

    /// <summary>Accept `bank chaos crash` and `bank chaos kill-node` (--allow-fault-injection): for tests and demos.</summary>
    public bool AllowFaultInjection { get; init; }

    /// <summary>What `bank chaos kill-node` does to this node; null kills its process at once, like kill -9.</summary>
    public Action? KillNode { get; init; }

    /// <summary><see cref="Resources"/>, or what this machine has (without asking nvidia-smi).</summary>
    public ResourceSet AdvertisedResources => Resources ?? ResourceSet.Empty
        .With(ResourceSet.Cpu, Environment.ProcessorCount)
        .With(ResourceSet.Gpu, 0)
        .With(ResourceSet.Memory, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>The node's log on stderr as one JSON object a line (`--log-format json`) rather than one line of text per entry.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>
    /// Form or join the cluster with Akka.Management's cluster bootstrap (`--discovery`): the node's <see cref="Seeds"/> are
    /// then unused. Null: the seeds, as `--head` and `--address` do.
    /// </summary>
    public BootstrapOptions? Bootstrap { get; init; }
}

public static class BankNodeHostingExtensions
{
    /// <summary>Everything a Bank node runs, in order.</summary>
    public static AkkaConfigurationBuilder WithBankNode(this AkkaConfigurationBuilder builder, BankNodeOptions options)
    {
        builder.WithBankHocon();
        var database = options.Persistence ?? BankPersistenceOptions.FromConfig(builder.NodeConfig());
        // The door listens first, so the node can tell the others where (its role client-door=HOST:PORT).
        var door = options.Tls is { } tls
            ? ClientDoor.Start(tls, options.Hostname, options.ClientPort ?? (options.Port == 0 ? 0 : options.Port + 1))
            : null;
        if (door is not null) options = options with { Roles = [.. options.Roles, door.Role] };
        return builder
            .WithFaultInjection(options.AllowFaultInjection)
            .WithBankSerialization()
            // The bootstrap endpoint answers from the start; the bootstrap itself waits for the warm-up (WithBankCluster).
            .WithBankBootstrap(options.Bootstrap)
            .WithBankCluster(options with { Persistence = database })
            .WithBankHealthChecks()
            .WithBankPersistence(database)
            .WithClusterLease(database.Journal == JournalKind.Postgres)
            // Accounts that ask for no resources need a node with a CPU (Ray: 1 CPU to be placed): one with the cpu role.
            .WithAccounts(ResourceSet.Cpu, options.Clock)
            .WithPlacedInstances()
            .WithTransfers()
            .WithPlacement(options.Clock)
            .WithNameRegistry(options.Clock)
            .WithInspection(options.AdvertisedResources)
            .WithStateStore(database)
            .WithGateway(options.KillNode)
            .WithBankMetrics()
            .WithClientDoor(door);
    }

    /// <summary>Turns <c>bank.chaos.allow-fault-injection</c> on for this node (it is off in hocon/bank.hocon).</summary>
    public static AkkaConfigurationBuilder WithFaultInjection(this AkkaConfigurationBuilder builder, bool allowed) =>
        allowed ? builder.AddHocon("bank.chaos.allow-fault-injection = on", HoconAddMode.Prepend) : builder;

    /// <summary>Bank's serializer for Bank's types; no serializer that builds a type a message names (<see cref="StrictSerialization"/>).</summary>
    public static AkkaConfigurationBuilder WithBankSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer(BankConstants.SerializerName, BankSerializer.BoundTypes,
                system => new BankSerializer(system))
            .AddHocon(StrictSerialization.Config, HoconAddMode.Prepend);

    /// <summary>Remoting (mutual TLS with <see cref="BankNodeOptions.Tls"/>) and clustering; with no seeds the node joins itself,
    /// with <see cref="BankNodeOptions.Bootstrap"/> it starts cluster bootstrap, in every case once its journal has answered
    /// a recovery (<see cref="WarmJoin"/>), and a node that forms a cluster on a PostgreSQL journal only once it holds the
    /// journal's cluster lease (<see cref="ClusterLease"/>).</summary>
    public static AkkaConfigurationBuilder WithBankCluster(this AkkaConfigurationBuilder builder, BankNodeOptions options)
    {
        var protocol = BankConstants.ProtocolOf(tls: options.Tls is not null);
        builder
            .WithRemoting(ClusterRemoting(options))
            .WithClustering(new ClusterOptions
            {
                Roles = [.. options.Roles.Union(NodeResources.RolesFor(options.AdvertisedResources, builder.NodeConfig()))],
                // No seed nodes here: Akka would join at start, before the journal is warm (WarmJoin).
            });
        Func<ActorSystem, Task<bool>>? mayForm = options.Persistence?.Journal == JournalKind.Postgres ? system => ClusterLease.Get(system).FormAsync() : null;
        // With bootstrap the node that forms the cluster is chosen later, by the join decider, which asks for the lease then.
        if (options.Bootstrap is not null && mayForm is not null)
            builder.AddHocon($"akka.management.cluster.bootstrap.join-decider.class = \"{typeof(LeasedJoinDecider).AssemblyQualifiedName}\"",
                HoconAddMode.Prepend);
        if (options.Bootstrap is not null) builder.WithWarmJoin(BankBootstrap.Start);
        else builder.WithWarmJoin([.. options.Seeds.Select(seed => $"{protocol}://{BankConstants.ActorSystemName}@{seed}")], mayForm);
        return builder;
    }

    /// <summary>
    /// Where the cluster port listens and, with a certificate, its TLS: both sides of every connection must show a node
    /// certificate of this node's CA (checked by <see cref="PeerCertificates.Accept"/>, which logs each refusal), so a
    /// client or admin certificate, another CA's or none never reaches the cluster: never a member, never an internal actor.
    /// </summary>
    public static RemoteOptions ClusterRemoting(BankNodeOptions options)
    {
        if (options.Tls is not { } tls) return new RemoteOptions { HostName = options.Hostname, Port = options.Port };
        if (tls.Role != BankRole.Node)
            throw new TlsSetupException(
                $"the certificate '{tls.Name}' is a {tls.Role.ToString().ToLowerInvariant()} certificate: a node needs one issued with --role node");
        return new RemoteOptions
        {
            HostName = options.Hostname,
            Port = options.Port,
            EnableSsl = true,
            Ssl = new SslOptions
            {
                X509Certificate = tls.Certificate,
                RequireMutualAuthentication = true,
                // Peers are known by their CA and role, not by the name they are reached at (nodes move, addresses are IPs).
                ValidateCertificateHostname = false,
                CustomValidator = PeerCertificates.Accept(tls.Authority, BankRole.Node),
            },
        };
    }

    /// <summary>Completes when this node is Up in its cluster.</summary>
    public static Task WhenUpAsync(this ActorSystem system)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        return up.Task;
    }
}
