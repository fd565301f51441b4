using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank start`: a long-running node. `--head` is the seed (port 4053 by default); `--address HOST:PORT` joins the
/// cluster of that seed as a worker (any free port by default). Ctrl+C or SIGTERM leaves the cluster gracefully.
/// </summary>
public sealed class StartCommand(Output output)
{
    public const string Usage =
        "bank start --head [--port 4053] | --address HOST:PORT [--port 0]; both: [--hostname 127.0.0.1] [--data DIR] [--journal sqlite|postgres] [--connection STRING] [--allow-fault-injection]";

    public const int DefaultHeadPort = 4053;

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var parsed = Arguments.Parse(args, ["port", "address", "hostname", "data", "journal", "connection"], ["head", "allow-fault-injection"]);
        parsed.ExpectPositionals(0, Usage);
        var head = parsed.Has("head");
        if (head == parsed.Has("address"))
            throw new UsageException($"say --head for the seed node or --address HOST:PORT to join one; usage: {Usage}");

        var hostname = parsed.Value("hostname") ?? "127.0.0.1";
        var port = ParsePort(parsed.Value("port"), head ? DefaultHeadPort : 0);
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
        var (persistence, where) = JournalOptions.From(parsed);
        EnsurePortFree(hostname, port);

        await using var node = await BankHost.StartAsync(new BankNodeOptions
        {
            Hostname = hostname,
            Port = port,
            Seeds = seeds,
            Persistence = persistence,
            AllowFaultInjection = parsed.Has("allow-fault-injection"),
        });
        var address = node.System.Settings.Config.GetString("akka.remote.dot-netty.tcp.hostname") is { } host
            ? $"{host}:{Akka.Cluster.Cluster.Get(node.System).SelfAddress.Port}"
            : Akka.Cluster.Cluster.Get(node.System).SelfAddress.ToString();
        if (output.Json)
            output.Object(new JsonObject { ["address"] = address, ["role"] = head ? "head" : "worker", ["journal"] = where });
        else
        {
            output.Line($"Bank {(head ? "head" : "worker")} node up at {address}; journal: {where}");
            output.Line($"Clients reach the cluster with --address {address} (or BANK_ADDRESS). Ctrl+C leaves the cluster.");
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

    private static int ParsePort(string? text, int fallback)
    {
        if (text is null) return fallback;
        return int.TryParse(text, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new UsageException($"--port must be a number from 0 to 65535, not '{Bank.Domain.TextEcho.OneLine(text)}'");
    }

    /// <summary>A taken port is reported in one line before the node tries to bind it.</summary>
    private static void EnsurePortFree(string hostname, int port)
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
                ? $"port {port} is already in use on {hostname}; pick another with --port"
                : $"cannot listen on {hostname}:{port}: {e.Message}");
        }
        finally
        {
            listener.Stop();
        }
    }
}
