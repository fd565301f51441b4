using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Dashboard;
using Bank.Hosting.Security;
using Bank.Hosting.Web;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank start`: a long-running node. `--head` is the seed (port 4053 by default); `--address HOST:PORT` joins the
/// cluster of that seed as a worker (any free port by default); `--discovery` forms or joins one by cluster bootstrap
/// (StartCommand.Bootstrap.cs). Ctrl+C or SIGTERM leaves the cluster gracefully.
/// </summary>
public sealed partial class StartCommand(Output output)
{
    public const int DefaultHeadPort = 4053;

    private static readonly Option<bool> Head = new("--head") { Description = "Start the seed node of a cluster." };

    private static readonly Option<string?> Seed = new("--address")
    {
        HelpName = "HOST:PORT",
        Description = "Start a worker that joins the cluster of the seed at HOST:PORT; workers share the head's PostgreSQL journal. " +
                      "A seed that keeps it out for TLS (--tls on one side only, another CA) is told in one line, exit 4.",
    };

    private static readonly Option<string?> Port = new("--port")
    {
        HelpName = "PORT", Description = $"The node's port (default {DefaultHeadPort} for the head, any free one for a worker).",
    };

    private static readonly Option<string?> Hostname = new("--hostname") { HelpName = "HOST", Description = "The address the node binds and advertises (default 127.0.0.1)." };

    private static readonly Option<string?> Resources = new("--resources")
    {
        HelpName = "cpu=N,gpu=N,memory=SIZE,NAME=N",
        Description = "What the node offers (default: this machine's CPUs, the GPUs nvidia-smi lists, its memory; SIZE as 500MiB or 8GiB); " +
                      "roles cpu, gpu and memory follow.",
    };

    private static readonly Option<string?> ClientPort = new("--client-port")
    {
        HelpName = "PORT", Description = "With --tls, the port of the node's door for clients (default --port + 1; a free one when --port is 0).",
    };

    private static readonly Option<bool> Insecure = new("--insecure")
    {
        Description = "Listen in plain text on an address beyond loopback, knowingly: no encryption and no authentication, so anyone " +
                      "who reaches the port can read the traffic, join the cluster and call any command as admin.",
    };

    private static readonly Option<bool> AllowFaultInjection = new("--allow-fault-injection")
    {
        Description = "Let `bank chaos` crash actors and kill the node (for tests and demos; refused otherwise).",
    };

    public static Command Create()
    {
        var start = new Command("start",
            "Run a node until Ctrl+C or SIGTERM (it then leaves the cluster gracefully): --head for the seed, which serves the web " +
            "dashboard at http://127.0.0.1:8265, --address HOST:PORT for a worker that joins it, or the same --discovery config " +
            "--contact-points HOST:PORT,... on every node, which form one cluster by Akka.Management's cluster bootstrap. Every node " +
            "serves /health/live and /health/ready on its HTTP port.")
        {
            Head, Seed, Port, Hostname, SharedOptions.Data, SharedOptions.Journal, SharedOptions.Connection, Resources,
            HttpPort, HttpHost, NoDashboard, AllowFaultInjection, SharedOptions.Tls, ClientPort, Insecure, LogFormat,
        };
        foreach (var option in BootstrapOptionsList) start.Options.Add(option);
        start.SetAction((parsed, _) => new StartCommand(BankCli.OutputOf(parsed)).RunAsync(parsed));
        return start;
    }

    public static string Usage => CommandTree.Synopsis(CommandTree.Root.Subcommands.Single(c => c.Name == "start"));

    public async Task<int> RunAsync(ParseResult parsed)
    {
        var head = parsed.GetValue(Head);
        var bootstrap = BootstrapFrom(parsed);
        if (bootstrap is null && head == parsed.Has(Seed))
            throw new UsageException($"say --head for the seed node, --address HOST:PORT to join one, or --discovery config --contact-points HOST:PORT,... to form one by bootstrap; usage: {Usage}");

        var hostname = parsed.GetValue(Hostname) ?? "127.0.0.1";
        var port = ParsePort(parsed.GetValue(Port), head || bootstrap is not null ? DefaultHeadPort : 0);
        var dashboard = HttpOptions(parsed, head || bootstrap is not null ? DashboardOptions.DefaultPort : 0);
        var tlsFolder = parsed.GetValue(SharedOptions.Tls) ?? Environment.GetEnvironmentVariable("BANK__TLS");
        if (SecureByDefault.Refusal(hostname, dashboard.Host, tlsFolder, parsed.GetValue(Insecure)) is { } refusal)
            throw new UsageException(refusal);
        if (bootstrap is not null && ManagementRefusal(bootstrap.ManagementHost, tlsFolder, parsed.GetValue(Insecure)) is { } exposed)
            throw new UsageException(exposed);
        if (parsed.Has(HttpPort)) EnsurePortFree(dashboard.Host, dashboard.Port, Typed(parsed, HttpPort));
        string[] seeds = [];
        if (!head && bootstrap is null)
        {
            var seed = parsed.GetValue(Seed)!;
            try
            {
                BankClient.ParseContact(seed);
            }
            catch (BankException bad)
            {
                throw new UsageException(bad.Message);
            }

            seeds = [seed];
        }

        var journal = parsed.GetValue(SharedOptions.Journal) ?? Hosting.Configuration.BankConfiguration.Current.Config.GetString("bank.persistence.journal", "sqlite");
        if (bootstrap is not null && journal == "sqlite")
            throw new UsageException(
                "the nodes of a bootstrapped cluster share its journal: start every node with --journal postgres --connection STRING (SQLite serves one process)");
        if (!head && journal == "sqlite")
            throw new UsageException(
                "a worker shares the cluster's journal: start the head and every worker with --journal postgres --connection STRING (SQLite serves one process)");
        var overrides = Bank.Domain.ResourceSet.Empty;
        if (parsed.GetValue(Resources) is { } given && !Bank.Domain.ResourceSet.TryParse(given, out overrides, out var badResources))
            throw new UsageException($"--resources: {badResources}");
        var (persistence, where) = JournalOptions.From(parsed);
        var tls = TlsOptions.Load(parsed, "a node needs one issued with --role node", Hosting.Security.BankRole.Node);
        // With the node's certificate the dashboard serves HTTPS and asks who is calling.
        dashboard = Secured(dashboard, tls);
        if (tls is null && parsed.Has(ClientPort))
            throw new UsageException("--client-port is the port of the door for clients that a node opens with --tls: give --tls DIR too");
        int? clientPort = parsed.Has(ClientPort) ? ParsePort(parsed.GetValue(ClientPort), 0, "--client-port") : null;
        var jsonLogs = JsonLogs(parsed);
        EnsurePortFree(hostname, port);
        if (bootstrap is not null) EnsurePortFree(bootstrap.ManagementHost, bootstrap.ManagementPort, "--management-port");
        if (tls is not null) EnsurePortFree(hostname, clientPort ?? (port == 0 ? 0 : port + 1), parsed.Has(ClientPort) ? "--client-port" : "--port (its client door takes the next port) or --client-port");

        // What this machine has (nvidia-smi for GPUs), overridden by --resources.
        var resources = (await Hosting.Resources.NodeResources.DetectAsync()).Merge(overrides);
        await using var node = await RunningNode.StartAsync(new BankNodeOptions
        {
            Hostname = hostname,
            Port = port,
            Seeds = seeds,
            Persistence = persistence,
            AllowFaultInjection = parsed.GetValue(AllowFaultInjection),
            Resources = resources,
            Tls = tls,
            ClientPort = clientPort,
            JsonLogs = jsonLogs,
            Bootstrap = bootstrap,
        });
        await using var web = await StartHttpAsync(node, dashboard, parsed);
        var address = node.System.Settings.Config.GetString("akka.remote.dot-netty.tcp.hostname") is { } host
            ? $"{host}:{Akka.Cluster.Cluster.Get(node.System).SelfAddress.Port}"
            : Akka.Cluster.Cluster.Get(node.System).SelfAddress.ToString();
        var roles = Akka.Cluster.Cluster.Get(node.System).SelfRoles;
        // With TLS, clients come in through the node's door, never the cluster port.
        var clients = roles.Select(Hosting.Door.ClientDoor.AddressIn).FirstOrDefault(door => door is not null) ?? address;
        if (output.Json)
            output.PrintJson(new JsonObject
            {
                ["address"] = address, ["role"] = head ? "head" : bootstrap is null ? "worker" : "node", ["journal"] = where,
                ["dashboard"] = dashboard.Pages ? web?.Url : null, ["http"] = web?.Url,
                ["client_address"] = clients, ["tls"] = tls is not null,
                ["management"] = bootstrap is null ? null : ManagementUrl(bootstrap),
            });
        else
        {
            output.Line($"Bank {(head ? "head " : bootstrap is null ? "worker " : "")}node up at {address}; journal: {where}{(tls is null ? "" : "; mutual TLS")}");
            output.Line(tls is null
                ? $"Clients reach the cluster with --address {address} (or BANK_ADDRESS). Ctrl+C leaves the cluster."
                : $"Clients reach the cluster with --address {clients} --tls DIR (a client or admin certificate of this CA). Ctrl+C leaves the cluster.");
            output.Line($"Resources: {resources}; roles: {string.Join(", ", InspectionCommands.Shown(roles).Order(StringComparer.Ordinal))}");
            if (bootstrap is not null)
                output.Line(BootstrapLine(bootstrap));
            if (web is not null && dashboard.Pages)
                output.Line($"View the dashboard at {web.Url}");
            if (web is not null)
                output.Line($"Health: {web.Url}{HealthEndpoints.LivePath} and {web.Url}{HealthEndpoints.ReadyPath}");
            if (web is not null && dashboard.Pages && dashboard.RequiresAuthentication)
                output.Line($"The dashboard lets in a client certificate of the cluster's CA{(dashboard.Token is null ? "" : $", or the token in ${DashboardOptions.TokenVariable} given once as ?token=")}.");
            if (parsed.GetValue(AllowFaultInjection))
                output.Line("Fault injection is on: `bank chaos crash` and `bank chaos kill-node` are accepted by this node.");
        }

        await output.Stdout.FlushAsync();
        try
        {
            await Task.Delay(Timeout.Infinite, node.Stopping);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: leave the cluster (disposing the node hands shards and the registry over).
        }

        // Another cluster took the journal's lease: the node has stopped writing it, and says so in one line (exit 1).
        if (Akka.Actor.CoordinatedShutdown.Get(node.System).ShutdownReason is Hosting.Lease.JournalLeaseLost lost)
            throw new BankException(Hosting.Contracts.ErrorKind.RuleViolation, "JournalLeaseLost", lost.Message);
        if (!output.Json) output.Line("Leaving the cluster...");
        return ExitCodes.Ok;
    }

    private static int ParsePort(string? text, int fallback, string option = "--port")
    {
        if (text is null) return fallback;
        return int.TryParse(text, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new UsageException($"{option} must be a number from 0 to 65535, not '{Bank.Domain.TextEcho.OneLine(text)}'");
    }

    /// <summary>A taken port is reported in one line before the node tries to bind it.</summary>
    /// <summary>
    /// The dashboard with the node's certificate and its token ($BANK__DASHBOARD_TOKEN, or the file named by
    /// $BANK__DASHBOARD_TOKEN_FILE); one that would be unsafe is a usage error, before the node starts.
    /// </summary>
    private static DashboardOptions Secured(DashboardOptions dashboard, TlsIdentity? tls)
    {
        try
        {
            var secured = dashboard with { Tls = tls, Token = Secrets.Read(DashboardOptions.TokenVariable) };
            secured.EnsureSafe();
            return secured;
        }
        catch (Exception unsafeDashboard) when (unsafeDashboard is DashboardSetupException or TlsSetupException)
        {
            throw new UsageException(unsafeDashboard.Message);
        }
    }

    private static void EnsurePortFree(string hostname, int port, string option = "--port")
    {
        if (port == 0) return;
        var address = IPAddress.TryParse(hostname, out var ip) ? ip : IPAddress.Loopback;
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            throw new UsageException(e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"port {port} is already in use on {hostname}; pick another with {option}"
                : $"cannot listen on {hostname}:{port}: {e.Message}");
        }
        finally
        {
            listener.Stop();
        }
    }
}
