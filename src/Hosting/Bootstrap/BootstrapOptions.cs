using Akka.Configuration;

using Bank.Domain;

namespace Bank.Hosting.Bootstrap;

/// <summary>How contact points are found: listed in configuration, or the pods the Kubernetes API lists.</summary>
public enum DiscoveryMethod
{
    Config,
    Kubernetes,
}

/// <summary>
/// How a node started with `--discovery` finds the others (hocon/bootstrap.hocon's <c>bank.bootstrap</c>, overridden by
/// the flags): every node gets the same contact points, and Akka.Management's cluster bootstrap forms or joins the cluster.
/// </summary>
public sealed record BootstrapOptions
{
    public const int DefaultManagementPort = 8558;

    public DiscoveryMethod Discovery { get; init; } = DiscoveryMethod.Config;

    /// <summary>The name contact points are looked up by (the <c>{0}</c> of the pod label selector).</summary>
    public string ServiceName { get; init; } = "bank";

    /// <summary>Every node's management endpoint, HOST:PORT (config discovery).</summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    /// <summary>How many contact points must answer before the lowest forms a new cluster.</summary>
    public int RequiredContactPoints { get; init; } = 2;

    /// <summary>Where Akka.Management's HTTP listens and what it advertises as this node's contact point.</summary>
    public string ManagementHost { get; init; } = "127.0.0.1";

    public int ManagementPort { get; init; } = DefaultManagementPort;

    /// <summary>How long the node waits to be Up before it gives up: the other contact points may start much later.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromHours(1);

    public string PodLabelSelector { get; init; } = "app={0}";

    /// <summary>The named container port of a pod's management endpoint (Kubernetes discovery).</summary>
    public string PortName { get; init; } = "management";

    /// <summary>Empty: the namespace the pod runs in.</summary>
    public string PodNamespace { get; init; } = "";

    /// <summary>Whether <paramref name="config"/> names a discovery method, so that a node uses cluster bootstrap unasked.</summary>
    public static bool IsSelected(Config config) => !string.IsNullOrWhiteSpace(config.GetString("bank.bootstrap.discovery", ""));

    /// <summary>The settings under <c>bank.bootstrap</c> of <paramref name="config"/> (config discovery when it names none).</summary>
    public static BootstrapOptions FromConfig(Config config)
    {
        var section = config.GetConfig("bank.bootstrap") ?? Config.Empty;
        return new BootstrapOptions
        {
            Discovery = ParseDiscovery(section.GetString("discovery", "") is { Length: > 0 } named ? named : "config"),
            ServiceName = section.GetString("service-name", "bank"),
            ContactPoints = [.. section.GetStringList("contact-points", [])],
            RequiredContactPoints = section.GetInt("required-contact-points", 2),
            ManagementHost = section.GetString("management.hostname", "127.0.0.1"),
            ManagementPort = section.GetInt("management.port", DefaultManagementPort),
            JoinTimeout = section.GetTimeSpan("join-timeout", TimeSpan.FromHours(1)),
            PodLabelSelector = section.GetString("kubernetes.pod-label-selector", "app={0}"),
            PortName = section.GetString("kubernetes.port-name", "management"),
            PodNamespace = section.GetString("kubernetes.pod-namespace", ""),
        };
    }

    /// <summary>"config" or "kubernetes" (also "kubernetes-api", Akka's own name for it).</summary>
    public static DiscoveryMethod ParseDiscovery(string name) => name.Trim().ToLowerInvariant() switch
    {
        "config" => DiscoveryMethod.Config,
        "kubernetes" or "kubernetes-api" => DiscoveryMethod.Kubernetes,
        _ => throw new ArgumentException(
            $"discovery must be config or kubernetes, not '{TextEcho.OneLine(name)}'"),
    };
}
