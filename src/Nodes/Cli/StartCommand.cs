using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Dashboard;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank start`: a long-running node. `--head` is the seed (port 4053 by default); `--address HOST:PORT` joins the
/// cluster of that seed as a worker (any free port by default). Ctrl+C or SIGTERM leaves the cluster gracefully.
/// </summary>
public sealed class StartCommand(Output output)
{
    public const string Usage =
        "bank start --head [--port 4053] [--resources cpu=N,gpu=N,memory=SIZE,NAME=N] [--dashboard-port 8265] [--dashboard-host 127.0.0.1] [--no-dashboard] | --address HOST:PORT [--port 0]; both: [--hostname 127.0.0.1] [--data DIR] [--journal sqlite|postgres] [--connection STRING] [--allow-fault-injection]";

    public const int DefaultHeadPort = 4053;

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var parsed = Arguments.Parse(args, ["port", "address", "hostname", "data", "journal", "connection", "dashboard-port", "dashboard-host", "resources"],
            ["head", "allow-fault-injection", "no-dashboard"]);
        parsed.ExpectPositionals(0, Usage);
        var head = parsed.Has("head");
        if (head == parsed.Has("address"))
            throw new UsageException($"say --head for the seed node or --address HOST:PORT to join one; usage: {Usage}");

        var hostname = parsed.Value("hostname") ?? "127.0.0.1";
        var port = ParsePort(parsed.Value("port"), head ? DefaultHeadPort : 0);
        if (!head && (parsed.Has("dashboard-port") || parsed.Has("dashboard-host") || parsed.Has("no-dashboard")))
            throw new UsageException("the dashboard is served by the head: --dashboard-port, --dashboard-host and --no-dashboard go with --head");
        var dashboard = head && !parsed.Has("no-dashboard")
            ? new DashboardOptions(parsed.Value("dashboard-host") ?? "127.0.0.1", ParsePort(parsed.Value("dashboard-port"), DashboardOptions.DefaultPort, "--dashboard-port"))
            : null;
        if (dashboard is not null && parsed.Has("dashboard-port")) EnsurePortFree(dashboard.Host, dashboard.Port, "--dashboard-port");
        string[] seeds = [];
        if (!head)
        {
            var seed = parsed.Value("address")!;
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

        var journal = parsed.Value("journal") ?? Hosting.Configuration.BankHocon.Defaults.GetString("bank.persistence.journal", "sqlite");
        if (!head && journal == "sqlite")
            throw new UsageException(
                "a worker shares the cluster's journal: start the head and every worker with --journal postgres --connection STRING (SQLite serves one process)");
        var overrides = Bank.Domain.ResourceSet.Empty;
        if (parsed.Value("resources") is { } given && !Bank.Domain.ResourceSet.TryParse(given, out overrides, out var badResources))
            throw new UsageException($"--resources: {badResources}");
        var (persistence, where) = JournalOptions.From(parsed);
        EnsurePortFree(hostname, port);

        // What this machine has (nvidia-smi for GPUs), overridden by --resources.
        var resources = (await Hosting.Resources.NodeResources.DetectAsync()).Merge(overrides);
        await using var node = await BankHost.StartAsync(new BankNodeOptions
        {
            Hostname = hostname,
            Port = port,
            Seeds = seeds,
            Persistence = persistence,
            AllowFaultInjection = parsed.Has("allow-fault-injection"),
            Resources = resources,
        });
        BankDashboard? web = null;
        if (dashboard is not null)
        {
            try
            {
                web = await BankDashboard.StartAsync(node, dashboard, node.Stopping);
            }
            catch (IOException taken) when (!parsed.Has("dashboard-port"))
            {
                // Another head on this machine has the default port: this one runs without a dashboard rather than not at all.
                await Console.Error.WriteLineAsync($"warning: no dashboard: port {dashboard.Port} is in use ({taken.Message}); pick one with --dashboard-port");
            }
        }

        await using var _ = web;
        var address = node.System.Settings.Config.GetString("akka.remote.dot-netty.tcp.hostname") is { } host
            ? $"{host}:{Akka.Cluster.Cluster.Get(node.System).SelfAddress.Port}"
            : Akka.Cluster.Cluster.Get(node.System).SelfAddress.ToString();
        if (output.Json)
            output.Object(new JsonObject { ["address"] = address, ["role"] = head ? "head" : "worker", ["journal"] = where, ["dashboard"] = web?.Url });
        else
        {
            output.Line($"Bank {(head ? "head" : "worker")} node up at {address}; journal: {where}");
            output.Line($"Clients reach the cluster with --address {address} (or BANK_ADDRESS). Ctrl+C leaves the cluster.");
            output.Line($"Resources: {resources}; roles: {string.Join(", ", Akka.Cluster.Cluster.Get(node.System).SelfRoles.Order(StringComparer.Ordinal))}");
            if (web is not null)
                output.Line($"View the dashboard at {web.Url}");
            if (parsed.Has("allow-fault-injection"))
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
