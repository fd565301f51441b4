using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery.KubernetesApi;
using Akka.Event;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;

namespace Bank.Hosting.Bootstrap;

/// <summary>
/// Cluster formation with Akka.Management: the management endpoint answers /bootstrap/seed-nodes from the node's start,
/// so that the others count it as a contact point at once; the bootstrap itself (discover, probe, then join the running
/// cluster a contact point names, or form one when this node has the lowest address and no one knows a cluster) starts
/// only when the node would join, after its journal warm-up (<see cref="Journal.WarmJoin"/>).
/// </summary>
public static class BankBootstrap
{
    /// <summary>The discovery method's name under <c>akka.discovery</c>.</summary>
    public static string AkkaMethodOf(DiscoveryMethod method) => method switch
    {
        DiscoveryMethod.Kubernetes => "kubernetes-api",
        _ => "config",
    };

    /// <summary>The Akka.Management and Akka.Discovery settings that <paramref name="options"/> stand for.</summary>
    public static Config Compose(BootstrapOptions options)
    {
        var method = AkkaMethodOf(options.Discovery);
        var discovery = options.Discovery switch
        {
            DiscoveryMethod.Kubernetes => $$"""
                akka.discovery.kubernetes-api {
                  pod-label-selector = {{Quoted(options.PodLabelSelector)}}
                  {{(options.PodNamespace.Length == 0 ? "" : $"pod-namespace = {Quoted(options.PodNamespace)}")}}
                }
                akka.management.cluster.bootstrap.contact-point-discovery.port-name = {{Quoted(options.PortName)}}
                """,
            _ => $"akka.discovery.config.services.{Quoted(options.ServiceName)}.endpoints = " +
                 $"[{string.Join(", ", options.ContactPoints.Select(Quoted))}]",
        };
        var hocon = $$"""
            akka.management.http {
              hostname = {{Quoted(options.ManagementHost)}}
              port = {{options.ManagementPort}}
            }
            akka.management.cluster.bootstrap.contact-point-discovery {
              service-name = {{Quoted(options.ServiceName)}}
              discovery-method = {{method}}
              required-contact-point-nr = {{options.RequiredContactPoints}}
            }
            bank.node.join-timeout = {{(long)options.JoinTimeout.TotalMilliseconds}}ms
            akka.discovery.method = {{method}}
            {{discovery}}
            """;
        var config = ConfigurationFactory.ParseString(hocon);
        // Akka.NET reads a plugin's settings from the system's configuration: Kubernetes discovery's defaults go along.
        return options.Discovery == DiscoveryMethod.Kubernetes ? config.WithFallback(KubernetesDiscovery.DefaultConfiguration()) : config;
    }

    /// <summary>
    /// Starts cluster bootstrap on a node whose management endpoint is listening: it joins the cluster the contact points
    /// name, or forms it. A failure is logged; the node then stays out of the cluster, as it would with no seed answering.
    /// </summary>
    public static void Start(ActorSystem system)
    {
        var log = Logging.GetLogger(system, typeof(BankBootstrap));
        ClusterBootstrap.Get(system).Start().ContinueWith(
            started => log.Error(started.Exception, "Cluster bootstrap did not start"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private static string Quoted(string text) => JsonSerializer.Serialize(text);
}

public static class BankBootstrapHostingExtensions
{
    /// <summary>
    /// With <paramref name="options"/>, the bootstrap endpoint (<see cref="BootstrapEndpoint"/>) listens from the node's
    /// start (a port that cannot be bound fails the start) until the node shuts down; the join itself is
    /// <see cref="BankBootstrap.Start"/>'s. Null: nothing.
    /// </summary>
    public static AkkaConfigurationBuilder WithBankBootstrap(this AkkaConfigurationBuilder builder, BootstrapOptions? options)
    {
        if (options is null) return builder;
        return builder
            .AddHocon(BankBootstrap.Compose(options), HoconAddMode.Prepend)
            .AddStartup(async (system, _) =>
            {
                var endpoint = await BootstrapEndpoint.StartAsync(system, options);
                // Stops answering once the node has left, as Akka.Management's own endpoint unbinds.
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseActorSystemTerminate, "bootstrap-endpoint", async () =>
                {
                    await endpoint.DisposeAsync();
                    return Done.Instance;
                });
            });
    }
}
