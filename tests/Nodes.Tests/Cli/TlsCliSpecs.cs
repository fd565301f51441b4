using System.Diagnostics;
using Bank.Hosting.Security;
using Bank.Testing;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// `bank start --tls` and client commands with `--tls`, as a user runs them: a client certificate works through the node's
/// door, an admin command needs an admin certificate (exit 5), a client without TLS hears so at once (exit 4), and a bad
/// --tls folder is a usage error (exit 2).
/// </summary>
public sealed class TlsCliSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>No password from the environment of whoever runs the specs: the folders are made without one.</summary>
    private static readonly Dictionary<string, string?> NoPassword = new()
    {
        [CertificateAuthority.PasswordVariable] = null,
        [CertificateAuthority.PasswordVariable + "_FILE"] = null,
        [TlsIdentity.DirectoryVariable] = null,
    };

    private readonly TempDataDirectory _root = new();

    private string In(string name) => Path.Combine(_root.Path, name);

    private static Task<BankProcess.Result> Bank(params string[] args) => BankProcess.RunAsync(Timeout, NoPassword, args);

    private static Task<BankProcess.Result> Bank(Dictionary<string, string?> environment, params string[] args) =>
        BankProcess.RunAsync(Timeout, environment, args);

    public TlsCliSpecs()
    {
        foreach (var variable in NoPassword.Keys) Environment.SetEnvironmentVariable(variable, null);
        CertificateAuthority.Init(In("ca"));
        CertificateAuthority.Issue(In("ca"), "node-1", BankRole.Node, [], In("node"));
        CertificateAuthority.Issue(In("ca"), "alice", BankRole.Client, [], In("client"));
        CertificateAuthority.Issue(In("ca"), "ops", BankRole.Admin, [], In("admin"));
    }

    [Fact]
    public async Task A_TLS_head_serves_clients_with_certificates_at_its_door_and_refuses_the_others_in_one_line()
    {
        var port = FreePort.Next();
        await using var node = await BankProcess.StartNodeAsync("TLS head", "start", "--head", "--port", port.ToString(),
            "--data", In("data"), "--no-dashboard", "--tls", In("node"));
        var door = $"127.0.0.1:{port + 1}";
        // The banner's later lines may still be on their way when "node up at" has been read.
        await Eventually.HoldsAsync(() => node.Stdout.Split('\n').Any(line => line.Contains($"--address {door} --tls DIR")),
            "the banner naming the door", TimeSpan.FromSeconds(10));

        BankCommands.AssertOk(await Bank("open", "tls-cli", "--balance", "10", "--detached", "--address", door, "--tls", In("client")), ["open"]);
        var deposit = await Bank("deposit", "tls-cli", "5", "--address", door, "--tls", In("client"));
        BankCommands.AssertOk(deposit, ["deposit"]);
        Assert.Contains("15", deposit.Stdout);
        // $BANK__TLS stands for --tls.
        var balance = await Bank(new Dictionary<string, string?>(NoPassword) { [TlsIdentity.DirectoryVariable] = In("client") },
            "balance", "tls-cli", "--address", door);
        BankCommands.AssertOk(balance, ["balance"]);

        var down = await Bank("cluster", "down", "127.0.0.1:1", "--address", door, "--tls", In("client"));
        BankCommands.AssertOneLineError(down, 5, "a client certificate may not down a member");
        var downJson = await Bank("cluster", "down", "127.0.0.1:1", "--address", door, "--tls", In("client"), "--json");
        Assert.Equal("Unauthorized", BankCommands.AssertJsonError(downJson, 5, "the JSON kind of a refusal").Kind);
        // Past the door with an admin certificate: the cluster itself answers (no member there).
        BankCommands.AssertOneLineError(await Bank("cluster", "down", "127.0.0.1:1", "--address", door, "--tls", In("admin")), 3,
            "an admin certificate passes the door");

        var watch = Stopwatch.StartNew();
        var plain = await Bank("list", "--address", door);
        var line = BankCommands.AssertOneLineError(plain, 4, "a client without TLS is refused");
        Assert.Contains("requires TLS", line);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");

        var bench = await Bank("bench", "--address", door, "--tls", In("client"), "--accounts", "2", "--ops", "20", "--warmup", "0");
        BankCommands.AssertOk(bench, ["bench", "--tls"]);
    }

    [Fact]
    public async Task A_bad_tls_folder_or_a_certificate_of_the_wrong_role_is_a_usage_error()
    {
        BankCommands.AssertOneLineError(await Bank("list", "--tls", In("missing")), 2, "a missing folder");
        var node = BankCommands.AssertOneLineError(await Bank("list", "--tls", In("node")), 2, "a node certificate for a client command");
        Assert.Contains("--role client or --role admin", node);
        var client = BankCommands.AssertOneLineError(await Bank("start", "--head", "--no-dashboard", "--data", In("data"), "--tls", In("client")), 2,
            "a client certificate for a node");
        Assert.Contains("--role node", client);
        var wrongPassword = new Dictionary<string, string?>(NoPassword) { [CertificateAuthority.PasswordVariable] = "not-the-password" };
        BankCommands.AssertOneLineError(await Bank(wrongPassword, "list", "--tls", In("client")), 2, "a wrong password");
    }

    public void Dispose() => _root.Dispose();
}
