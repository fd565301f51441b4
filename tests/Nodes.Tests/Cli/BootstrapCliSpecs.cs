using Bank.Hosting.Bootstrap;
using Bank.Hosting.Configuration;
using Bank.Nodes.Cli;
using Bank.Testing;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// `bank start --discovery`: contradictions and bad values are one line and exit 2, before anything listens; the bootstrap
/// endpoint (no TLS, names the members) beyond loopback needs --tls or --insecure. 203.0.113.7 is an address this machine
/// does not have: nothing is ever sent to it.
/// </summary>
public sealed class BootstrapCliSpecs
{
    private const string Beyond = "203.0.113.7";

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await BankCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData(new[] { "start", "--head", "--discovery", "config", "--contact-points", "127.0.0.1:8558" },
        "error: --discovery forms the cluster by bootstrap: leave out --head and --address")]
    [InlineData(new[] { "start", "--address", "127.0.0.1:4053", "--discovery", "config" },
        "error: --discovery forms the cluster by bootstrap: leave out --head and --address")]
    [InlineData(new[] { "start", "--discovery", "dns" }, "error: --discovery must be config or kubernetes, not 'dns'")]
    [InlineData(new[] { "start", "--discovery", "config" },
        "error: --discovery config needs --contact-points HOST:PORT,... (every node's management endpoint)")]
    [InlineData(new[] { "start", "--discovery", "config", "--contact-points", "127.0.0.1" },
        "error: --contact-points: '127.0.0.1' is not a cluster address: use HOST:PORT, e.g. 127.0.0.1:4053")]
    [InlineData(new[] { "start", "--discovery", "config", "--contact-points", "127.0.0.1:8558" },
        "error: --required-contact-points is 2 but --contact-points lists 1: no new cluster could ever form (give --required-contact-points 1 for a one-node cluster)")]
    [InlineData(new[] { "start", "--discovery", "config", "--contact-points", "127.0.0.1:8558", "--required-contact-points", "0" },
        "error: --required-contact-points must be a number from 1, not '0'")]
    [InlineData(new[] { "start", "--discovery", "config", "--contact-points", "127.0.0.1:8558", "--required-contact-points", "1", "--management-port", "0" },
        "error: --management-port must be a fixed port: the other nodes name it in their contact points")]
    [InlineData(new[] { "start", "--discovery", "kubernetes", "--contact-points", "127.0.0.1:8558" },
        "error: --contact-points goes with --discovery config; --discovery kubernetes asks the Kubernetes API")]
    [InlineData(new[] { "start", "--head", "--contact-points", "127.0.0.1:8558" }, "error: --contact-points goes with --discovery config|kubernetes")]
    [InlineData(new[] { "start", "--head", "--management-port", "8600" }, "error: --management-port goes with --discovery config|kubernetes")]
    [InlineData(new[] { "start", "--discovery", "config", "--contact-points", "127.0.0.1:8558", "--required-contact-points", "1", "--data", "/tmp/bank-boot-spec" },
        "error: the nodes of a bootstrapped cluster share its journal: start every node with --journal postgres --connection STRING (SQLite serves one process)")]
    public async Task Bootstrap_usage_errors_print_one_line_and_exit_2(string[] args, string expected)
    {
        var (code, output, error) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal(expected, error.TrimEnd('\n', '\r'));
        Assert.Empty(output);
    }

    [SkippableFact]
    public async Task A_node_waiting_for_its_contact_points_logs_no_stack_traces_and_stops_on_sigterm()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var (management, missing) = (FreePort.Next(), FreePort.Next());
        await using var node = BankProcess.Start("start", "--discovery", "config", "--contact-points", $"127.0.0.1:{management},127.0.0.1:{missing}",
            "--required-contact-points", "2", "--management-port", management.ToString(), "--port", FreePort.Next().ToString(),
            "--http-port", "0", "--journal", "postgres", "--connection", database.ConnectionString);
        // The missing contact point: a port that drops every connection, so that each probe fails; wait for three of them.
        using var dropping = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, missing);
        dropping.Start();
        var probes = 0;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await Eventually.HoldsAsync(async () =>
        {
            using var probe = await dropping.AcceptTcpClientAsync(limit.Token);
            return ++probes >= 3;
        }, "three probes of the missing contact point", TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(10));
        await node.TerminateAsync();
        var stopped = await node.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.DoesNotContain("   at ", stopped.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Probing [", stopped.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bootstrap_endpoint_beyond_loopback_without_tls_or_insecure_is_refused()
    {
        var (code, output, error) = await RunAsync("start", "--discovery", "config", "--contact-points", $"{Beyond}:8558",
            "--required-contact-points", "1", "--management-host", Beyond, "--journal", "postgres", "--connection", "Host=127.0.0.1");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"error: refusing to serve the bootstrap endpoint on {Beyond}: it has no TLS and names the cluster's members; " +
                     "give --tls DIR (the cluster port then admits only your nodes) or --insecure, or keep it on loopback", error.TrimEnd('\n', '\r'));
        Assert.Empty(output);
    }

    [Fact]
    public void The_kubernetes_example_starts_bank_with_options_bank_start_has()
    {
        var manifest = File.ReadAllLines(Repository.PathOf("deploy", "kubernetes", "bank.yaml"));
        var start = CommandTree.Root.Subcommands.Single(c => c.Name == "start");
        var known = start.Options.Select(o => o.Name).ToHashSet();
        var args = manifest.SkipWhile(l => l.Trim() != "args:").Skip(1).TakeWhile(l => l.TrimStart().StartsWith("- ", StringComparison.Ordinal))
            .Select(l => l.Trim()[2..].Trim('"')).ToList();

        Assert.Equal("start", args[0]);
        Assert.Equal("kubernetes", args[args.IndexOf("--discovery") + 1]);
        Assert.All(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)), a => Assert.Contains(a, known));
        // The bootstrap probes the pods' port of that name.
        Assert.Contains(manifest, l => l.Trim() == "- name: management");
        Assert.Equal("management", BootstrapOptions.FromConfig(BankHocon.Defaults).PortName);
    }

    [Theory]
    [InlineData("127.0.0.1", null, false)]
    [InlineData(Beyond, "/etc/bank/tls", false)]
    [InlineData(Beyond, null, true)]
    public void The_bootstrap_endpoint_may_listen_on_loopback_or_with_tls_or_insecure(string host, string? tls, bool insecure) =>
        Assert.Null(StartCommand.ManagementRefusal(host, tls, insecure));
}
