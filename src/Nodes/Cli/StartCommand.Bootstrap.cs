using System.CommandLine;
using Bank.Hosting;
using Bank.Hosting.Bootstrap;
using Bank.Hosting.Client;
using Bank.Hosting.Configuration;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank start --discovery config --contact-points HOST:PORT,...`: every node started with the same command, in any
/// order, forms or joins one cluster through Akka.Management's cluster bootstrap (src/Hosting/Bootstrap).
/// </summary>
public sealed partial class StartCommand
{
    private static readonly Option<string?> Discovery = new("--discovery")
    {
        HelpName = "config|kubernetes",
        Description = "Form or join the cluster by cluster bootstrap instead of --head / --address: config finds the nodes at " +
                      "--contact-points, kubernetes asks the Kubernetes API for the pods labelled app=bank (README, Running a cluster).",
    };

    private static readonly Option<string?> ContactPoints = new("--contact-points")
    {
        HelpName = "HOST:PORT,...",
        Description = "With --discovery config, every node's management endpoint (the same list on every node); the node with the " +
                      "lowest one forms the cluster when no node knows one.",
    };

    private static readonly Option<string?> RequiredContactPoints = new("--required-contact-points")
    {
        HelpName = "N",
        Description = "With --discovery, how many contact points must answer before a new cluster is formed (default 2; 1 for a " +
                      "one-node cluster).",
    };

    private static readonly Option<string?> ManagementPort = new("--management-port")
    {
        HelpName = "PORT",
        Description = $"With --discovery, the port of Akka.Management's bootstrap endpoint (default {BootstrapOptions.DefaultManagementPort}).",
    };

    private static readonly Option<string?> ManagementHost = new("--management-host")
    {
        HelpName = "HOST",
        Description = "With --discovery, the address of the bootstrap endpoint, which has no TLS and names the cluster's members " +
                      "(default 127.0.0.1; elsewhere only with --tls or --insecure).",
    };

    private static IEnumerable<Option> BootstrapOptionsList => [Discovery, ContactPoints, RequiredContactPoints, ManagementPort, ManagementHost];

    /// <summary>
    /// The node's cluster bootstrap, from the flags over <c>bank.bootstrap</c>; null when the node joins by --head or
    /// --address. Contradictions and bad values are usage errors.
    /// </summary>
    private static BootstrapOptions? BootstrapFrom(ParseResult parsed)
    {
        var given = parsed.Has(Discovery) || (!parsed.GetValue(Head) && !parsed.Has(Seed) && BootstrapOptions.IsSelected(BankHocon.Defaults));
        if (!given)
        {
            if (BootstrapOptionsList.Skip(1).FirstOrDefault(o => parsed.GetResult(o) is not null) is { } stray)
                throw new UsageException($"{stray.Name} goes with --discovery config|kubernetes");
            return null;
        }

        if (parsed.GetValue(Head) || parsed.Has(Seed))
            throw new UsageException("--discovery forms the cluster by bootstrap: leave out --head and --address");
        var options = BootstrapOptions.FromConfig(BankHocon.Defaults);
        try
        {
            if (parsed.GetValue(Discovery) is { } method) options = options with { Discovery = BootstrapOptions.ParseDiscovery(method) };
        }
        catch (ArgumentException bad)
        {
            throw new UsageException($"--{bad.Message}");
        }

        if (parsed.GetValue(ContactPoints) is { } points)
            options = options with { ContactPoints = points.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) };
        if (parsed.GetValue(ManagementHost) is { } host) options = options with { ManagementHost = host };
        options = options with
        {
            ManagementPort = ParsePort(parsed.GetValue(ManagementPort), options.ManagementPort, "--management-port"),
            RequiredContactPoints = parsed.GetValue(RequiredContactPoints) is { } required
                ? int.TryParse(required, out var n) && n >= 1
                    ? n
                    : throw new UsageException($"--required-contact-points must be a number from 1, not '{Bank.Domain.TextEcho.OneLine(required)}'")
                : options.RequiredContactPoints,
        };
        if (options.ManagementPort == 0)
            throw new UsageException("--management-port must be a fixed port: the other nodes name it in their contact points");
        return options.Discovery == DiscoveryMethod.Config ? WithConfigContactPoints(options) : WithoutContactPoints(options);
    }

    private static BootstrapOptions WithConfigContactPoints(BootstrapOptions options)
    {
        if (options.ContactPoints.Count == 0)
            throw new UsageException("--discovery config needs --contact-points HOST:PORT,... (every node's management endpoint)");
        foreach (var point in options.ContactPoints)
        {
            try
            {
                BankClient.ParseContact(point);
            }
            catch (BankException bad)
            {
                throw new UsageException($"--contact-points: {bad.Message}");
            }
        }

        if (options.RequiredContactPoints > options.ContactPoints.Count)
            throw new UsageException(
                $"--required-contact-points is {options.RequiredContactPoints} but --contact-points lists {options.ContactPoints.Count}: " +
                "no new cluster could ever form (give --required-contact-points 1 for a one-node cluster)");
        return options;
    }

    private static BootstrapOptions WithoutContactPoints(BootstrapOptions options) => options.ContactPoints.Count == 0
        ? options
        : throw new UsageException("--contact-points goes with --discovery config; --discovery kubernetes asks the Kubernetes API");

    private static string BootstrapLine(BootstrapOptions options) =>
        $"Cluster bootstrap ({BankBootstrap.AkkaMethodOf(options.Discovery)} discovery) answers at {ManagementUrl(options)}/bootstrap/seed-nodes";

    private static string ManagementUrl(BootstrapOptions options) =>
        $"http://{(options.ManagementHost.Contains(':') ? $"[{options.ManagementHost}]" : options.ManagementHost)}:{options.ManagementPort}";

    /// <summary>
    /// The bootstrap endpoint has no TLS of its own and names every member (DESIGN.md section 8): beyond loopback it is
    /// allowed only where the cluster port itself may listen there, with --tls (strangers cannot join what they learn of)
    /// or --insecure (knowingly).
    /// </summary>
    public static string? ManagementRefusal(string managementHost, string? tls, bool insecure) =>
        Loopback.Is(managementHost) || !string.IsNullOrWhiteSpace(tls) || insecure
            ? null
            : $"refusing to serve the bootstrap endpoint on {Bank.Domain.TextEcho.OneLine(managementHost)}: it has no TLS and names the " +
              "cluster's members; give --tls DIR (the cluster port then admits only your nodes) or --insecure, or keep it on loopback";
}
