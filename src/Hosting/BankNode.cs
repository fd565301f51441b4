using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Bank.Hosting.Configuration;
using Bank.Hosting.Gateway;
using Bank.Hosting.Inspection;
using Bank.Hosting.Placement;
using Bank.Hosting.Registry;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Resources;
using Bank.Hosting.Serialization;
using Bank.Hosting.Transfers;
using Bank.Hosting.StateStore;
using Bank.Hosting.Accounts;

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

    /// <summary>Journal and snapshot store; when null, what <c>bank.persistence</c> in hocon/persistence.hocon says.</summary>
    public BankPersistenceOptions? Persistence { get; init; }

    /// <summary>
    /// The resources this node advertises (cpu, gpu, memory in bytes, custom ones); they also give its roles. Null: the
    /// processor count and the memory of this machine, and no GPU (the `bank` command also asks nvidia-smi).
    /// </summary>
    public ResourceSet? Resources { get; init; }

    /// <summary>Accept `bank chaos crash` and `bank chaos kill-node` (--allow-fault-injection): for tests and demos.</summary>
    public bool AllowFaultInjection { get; init; }

    /// <summary>What `bank chaos kill-node` does to this node; null kills its process at once, like kill -9.</summary>
    public Action? KillNode { get; init; }

    /// <summary><see cref="Resources"/>, or what this machine has (without asking nvidia-smi).</summary>
    public ResourceSet AdvertisedResources => Resources ?? ResourceSet.Empty
        .With(ResourceSet.Cpu, Environment.ProcessorCount)
        .With(ResourceSet.Gpu, 0)
        .With(ResourceSet.Memory, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
}

public static class BankNodeHostingExtensions
{
    /// <summary>Everything a Bank node runs, in order.</summary>
    public static AkkaConfigurationBuilder WithBankNode(this AkkaConfigurationBuilder builder, BankNodeOptions options)
    {
        var database = options.Persistence ?? BankPersistenceOptions.FromConfig(BankHocon.Defaults);
        return builder
            .WithBankHocon()
            .WithFaultInjection(options.AllowFaultInjection)
            .WithBankSerialization()
            .WithBankCluster(options)
            .WithBankPersistence(database)
            // Accounts that ask for no resources need a node with a CPU (Ray: 1 CPU to be placed): one with the cpu role.
            .WithAccounts(ResourceSet.Cpu)
            .WithPlacedInstances()
            .WithTransfers()
            .WithPlacement()
            .WithNameRegistry()
            .WithInspection(options.AdvertisedResources)
            .WithStateStore(database)
            .WithGateway(options.KillNode);
    }

    /// <summary>Turns <c>bank.chaos.allow-fault-injection</c> on for this node (it is off in hocon/bank.hocon).</summary>
    public static AkkaConfigurationBuilder WithFaultInjection(this AkkaConfigurationBuilder builder, bool allowed) =>
        allowed ? builder.AddHocon("bank.chaos.allow-fault-injection = on", HoconAddMode.Prepend) : builder;

    /// <summary>Bank's serializer for Bank's types; no serializer that builds a type a message names (<see cref="StrictSerialization"/>).</summary>
    public static AkkaConfigurationBuilder WithBankSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer(BankConstants.SerializerName, BankSerializer.BoundTypes,
                system => new BankSerializer(system))
            .AddHocon(StrictSerialization.Config, HoconAddMode.Prepend);

    /// <summary>Remoting and clustering; with no seeds the node joins itself.</summary>
    public static AkkaConfigurationBuilder WithBankCluster(this AkkaConfigurationBuilder builder, BankNodeOptions options)
    {
        builder
            .WithRemoting(options.Hostname, options.Port)
            .WithClustering(new ClusterOptions
            {
                Roles = [.. options.Roles.Union(NodeResources.RolesFor(options.AdvertisedResources, BankHocon.Defaults))],
                SeedNodes = [.. options.Seeds.Select(seed => $"akka.tcp://{BankConstants.ActorSystemName}@{seed}")],
            });
        if (options.Seeds.Count == 0)
            builder.AddStartup((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
        return builder;
    }

    /// <summary>Completes when this node is Up in its cluster.</summary>
    public static Task WhenUpAsync(this ActorSystem system)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        return up.Task;
    }
}
