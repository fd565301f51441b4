using Akka.Configuration;
using Bank.Hosting.Bootstrap;
using Bank.Hosting.Configuration;
using Xunit;

namespace Bank.Hosting.Tests.Bootstrap;

/// <summary>
/// What a node started with `--discovery` hands Akka.Management and Akka.Discovery. Kubernetes API discovery cannot run
/// here (no API server), so its configuration path is checked as composed: the method, the label selector, the port name.
/// </summary>
public sealed class BootstrapConfigSpecs
{
    private static Config Composed(BootstrapOptions options) => BankBootstrap.Compose(options).WithFallback(BankHocon.Defaults);

    [Fact]
    public void Kubernetes_discovery_asks_the_kubernetes_api_for_the_pods_labelled_with_the_service_name()
    {
        var options = BootstrapOptions.FromConfig(
            ConfigurationFactory.ParseString("bank.bootstrap.discovery = kubernetes").WithFallback(BankHocon.Defaults));

        var config = Composed(options);

        Assert.Equal(DiscoveryMethod.Kubernetes, options.Discovery);
        Assert.Equal("kubernetes-api", config.GetString("akka.discovery.method"));
        Assert.Equal("kubernetes-api", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        Assert.Equal("bank", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.service-name"));
        Assert.Equal("management", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.port-name"));
        Assert.Equal("app={0}", config.GetString("akka.discovery.kubernetes-api.pod-label-selector"));
        // The plugin's own defaults travel along: Akka.NET reads them from the system's configuration.
        Assert.StartsWith("Akka.Discovery.KubernetesApi.KubernetesApiServiceDiscovery", config.GetString("akka.discovery.kubernetes-api.class"));
        Assert.Equal("/var/run/secrets/kubernetes.io/serviceaccount/token", config.GetString("akka.discovery.kubernetes-api.api-token-path"));
    }

    [Fact]
    public void Kubernetes_settings_of_the_node_are_seen_label_selector_namespace_and_port_name()
    {
        var options = new BootstrapOptions
        {
            Discovery = DiscoveryMethod.Kubernetes, ServiceName = "ledger", PodLabelSelector = "app.kubernetes.io/name={0}",
            PodNamespace = "banking", PortName = "akka-mgmt", RequiredContactPoints = 3,
        };

        var config = Composed(options);

        Assert.Equal("app.kubernetes.io/name={0}", config.GetString("akka.discovery.kubernetes-api.pod-label-selector"));
        Assert.Equal("banking", config.GetString("akka.discovery.kubernetes-api.pod-namespace"));
        Assert.Equal("akka-mgmt", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.port-name"));
        Assert.Equal("ledger", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.service-name"));
        Assert.Equal(3, config.GetInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));
    }

    [Fact]
    public void Config_discovery_lists_the_contact_points_under_the_service_name()
    {
        var options = new BootstrapOptions { ContactPoints = ["127.0.0.1:8558", "127.0.0.1:8559"], RequiredContactPoints = 2 };

        var config = Composed(options);

        Assert.Equal("config", config.GetString("akka.discovery.method"));
        Assert.Equal("config", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        Assert.Equal(["127.0.0.1:8558", "127.0.0.1:8559"], config.GetStringList("akka.discovery.config.services.bank.endpoints"));
        Assert.Equal(2, config.GetInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));
    }

    [Fact]
    public void The_management_endpoint_listens_on_loopback_port_8558_unless_told_otherwise()
    {
        var config = Composed(BootstrapOptions.FromConfig(BankHocon.Defaults));

        Assert.Equal("127.0.0.1", config.GetString("akka.management.http.hostname"));
        Assert.Equal(8558, config.GetInt("akka.management.http.port"));
    }

    [Fact]
    public void A_node_started_by_bootstrap_waits_an_hour_for_the_others_not_the_30_s_of_a_worker()
    {
        var config = Composed(BootstrapOptions.FromConfig(BankHocon.Defaults));

        Assert.Equal(TimeSpan.FromSeconds(30), BankHocon.Defaults.GetTimeSpan("bank.node.join-timeout"));
        Assert.Equal(TimeSpan.FromHours(1), config.GetTimeSpan("bank.node.join-timeout"));
    }

    [Fact]
    public void Nodes_of_one_machine_on_different_management_ports_are_all_contact_points()
    {
        // Akka.Management's default keeps, of the contact points of one host, only the one on the fallback port (8558).
        Assert.False(BankHocon.Defaults.GetBoolean("akka.management.cluster.bootstrap.contact-point.filter-on-fallback-port"));
    }

    [Fact]
    public void The_management_endpoint_serves_only_the_bootstrap_route()
    {
        var routes = BankHocon.Defaults.GetConfig("akka.management.http.routes");

        Assert.Equal("", routes.GetString("remote-address"));
        Assert.Equal("", routes.GetString("cluster-client-receptionist"));
    }

    [Fact]
    public void Bootstrap_is_used_unasked_only_where_the_configuration_names_a_discovery_method()
    {
        Assert.False(BootstrapOptions.IsSelected(BankHocon.Defaults));
        Assert.True(BootstrapOptions.IsSelected(ConfigurationFactory.ParseString("bank.bootstrap.discovery = config")));
        Assert.Equal(DiscoveryMethod.Config, BootstrapOptions.FromConfig(BankHocon.Defaults).Discovery);
        Assert.Throws<ArgumentException>(() => BootstrapOptions.ParseDiscovery("dns"));
    }
}
