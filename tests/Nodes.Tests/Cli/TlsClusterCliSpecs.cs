using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bank.Hosting.Security;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// The README's TLS cluster as a new user runs it: certificates made with `bank cert`, a head and two workers with
/// --tls on one PostgreSQL journal, clients through a worker's door; and the same commands without the right
/// certificate refused in one line each, within seconds.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class TlsClusterCliSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Made without a password, whatever the environment of whoever runs the specs says.</summary>
    private static readonly Dictionary<string, string?> NoPassword = new()
    {
        [CertificateAuthority.PasswordVariable] = null,
        [CertificateAuthority.PasswordVariable + "_FILE"] = null,
        [TlsIdentity.DirectoryVariable] = null,
    };

    private readonly TempDataDirectory _root = new();

    private string In(string name) => Path.Combine(_root.Path, name);

    private static Task<BankProcess.Result> Bank(params string[] args) => BankProcess.RunAsync(Timeout, NoPassword, args);

    [SkippableFact]
    public async Task Three_nodes_and_clients_with_certificates_work_and_the_same_commands_without_them_are_refused_in_one_line()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        foreach (var variable in NoPassword.Keys) Environment.SetEnvironmentVariable(variable, null);
        BankCommands.AssertOk(await Bank("cert", "init", "--out", In("ca")), ["cert", "init"]);
        BankCommands.AssertOk(await Bank("cert", "init", "--out", In("other-ca")), ["cert", "init", "other"]);
        await Task.WhenAll(new[] { ("node1", "node"), ("node2", "node"), ("node3", "node"), ("alice", "client"), ("ops", "admin") }
            .Select(async c => BankCommands.AssertOk(
                await Bank("cert", "issue", "--ca", In("ca"), "--name", c.Item1, "--role", c.Item2, "--out", In(c.Item1)), ["cert", "issue", c.Item1]))
            .Append(Task.Run(async () => BankCommands.AssertOk(
                await Bank("cert", "issue", "--ca", In("other-ca"), "--name", "eve", "--role", "client", "--out", In("eve")), ["cert", "issue", "eve"]))));

        var connection = database.ConnectionString;
        var headPort = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"TLS head on port {headPort}", "start", "--head", "--port", headPort.ToString(),
            "--client-port", FreePort.Next().ToString(), "--journal", "postgres", "--connection", connection, "--no-dashboard", "--tls", In("node1"));
        var workers = await Task.WhenAll(new[] { "node2", "node3" }.Select(cert => BankProcess.StartNodeAsync($"TLS worker {cert}",
            "start", "--address", head.Address, "--port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString(),
            "--journal", "postgres", "--connection", connection, "--tls", In(cert))));
        await using var worker = workers[0];
        await using var leaving = workers[1];
        var door = await DoorOfAsync(worker);

        // Every member Up, seen through a worker's door with the admin certificate.
        var members = await Eventually.ReadsAsync(() => JsonAsync("cluster", "show", "--address", door, "--tls", In("ops")),
            show => show["members"] is JsonArray { Count: 3 } all && all.All(m => (string?)m!["status"] == "Up"), "3 members Up",
            TimeSpan.FromSeconds(30), show: show => show.ToJsonString());
        output.WriteLine(members.ToJsonString());

        // The account commands through the worker's door with the client certificate.
        string[] alice = ["--address", door, "--tls", In("alice")];
        BankCommands.AssertOk(await Bank(["open", "tls-a", "--balance", "100", "--detached", .. alice]), ["open", "tls-a"]);
        BankCommands.AssertOk(await Bank(["open", "tls-b", "--balance", "5", "--detached", .. alice]), ["open", "tls-b"]);
        Assert.Equal(110m, (await JsonAsync(["deposit", "tls-a", "10", .. alice]))["balance"]!.GetValue<decimal>());
        Assert.Equal(90m, (await JsonAsync(["withdraw", "tls-a", "20", .. alice]))["balance"]!.GetValue<decimal>());
        BankCommands.AssertOk(await Bank(["transfer", "tls-a", "tls-b", "30", .. alice]), ["transfer"]);
        Assert.Equal(60m, (await JsonAsync(["balance", "tls-a", .. alice]))["balance"]!.GetValue<decimal>());
        Assert.Equal(35m, (await JsonAsync(["balance", "tls-b", .. alice]))["balance"]!.GetValue<decimal>());
        var listed = await Bank(["list", .. alice]);
        BankCommands.AssertOk(listed, ["list"]);
        Assert.Contains(listed.Lines, l => l.StartsWith("tls-a ", StringComparison.Ordinal));
        Assert.Contains(listed.Lines, l => l.StartsWith("tls-b ", StringComparison.Ordinal));

        // An admin command: refused with the client certificate, carried out with the admin one.
        var refusedLeave = await Bank(["cluster", "leave", leaving.Address, .. alice]);
        BankCommands.AssertOneLineError(refusedLeave, 5, "a client certificate may not make a member leave");
        var leave = await JsonAsync("cluster", "leave", leaving.Address, "--address", door, "--tls", In("ops"));
        Assert.Single(Assert.IsType<JsonArray>(leave["members"]));
        Assert.Equal(0, (await leaving.WaitForExitAsync(TimeSpan.FromSeconds(30))).ExitCode);
        await Eventually.ReadsAsync(() => JsonAsync("cluster", "show", "--address", door, "--tls", In("ops")),
            show => show["members"] is JsonArray { Count: 2 }, "2 members after the leave", TimeSpan.FromSeconds(30), show: show => show.ToJsonString());

        // The same commands without the right certificate: one line each, exit 4, well before Akka's 15 s timeouts.
        var refusals = await Task.WhenAll(
            TimedAsync(() => Bank("list", "--address", door)),
            TimedAsync(() => Bank("start", "--address", head.Address, "--port", FreePort.Next().ToString(), "--journal", "postgres",
                "--connection", connection)),
            TimedAsync(() => Bank("list", "--address", head.Address, "--tls", In("alice"))),
            TimedAsync(() => Bank("list", "--address", door, "--tls", In("eve"))));
        Assert.Contains("requires TLS", Refused(refusals[0], "a client without --tls"));
        Assert.Matches("seed .* requires TLS: start this node with --tls DIR", Refused(refusals[1], "a worker without --tls"));
        Assert.Contains("refused this TLS certificate", Refused(refusals[2], "a client certificate at the cluster port"));
        Assert.Contains("TLS", Refused(refusals[3], "a certificate of another CA"));
    }

    [SkippableFact]
    public async Task A_TLS_worker_at_a_plain_seed_is_refused_in_one_line()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        foreach (var variable in NoPassword.Keys) Environment.SetEnvironmentVariable(variable, null);
        BankCommands.AssertOk(await Bank("cert", "init", "--out", In("ca")), ["cert", "init"]);
        BankCommands.AssertOk(await Bank("cert", "issue", "--ca", In("ca"), "--name", "node2", "--role", "node", "--out", In("node2")), ["cert", "issue"]);
        var headPort = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"plain head on port {headPort}", "start", "--head", "--port", headPort.ToString(),
            "--journal", "postgres", "--connection", database.ConnectionString, "--no-dashboard");

        var worker = await TimedAsync(() => Bank("start", "--address", head.Address, "--port", FreePort.Next().ToString(),
            "--client-port", FreePort.Next().ToString(), "--journal", "postgres", "--connection", database.ConnectionString, "--tls", In("node2")));
        Assert.Contains("does not speak TLS", Refused(worker, "a TLS worker at a plain seed"));
    }

    /// <summary>The door's HOST:PORT that a TLS node prints for its clients, on the line after its "node up at" line.</summary>
    private static async Task<string> DoorOfAsync(BankProcess node)
    {
        await Eventually.HoldsAsync(() => ClientsLine().IsMatch(node.Stdout), $"{node.Description} to print its clients' address");
        return ClientsLine().Match(node.Stdout).Groups[1].Value;
    }

    [GeneratedRegex(@"--address (\S+) --tls DIR")]
    private static partial Regex ClientsLine();

    private static async Task<JsonObject> JsonAsync(params string[] args)
    {
        var result = await Bank([.. args, "--json"]);
        BankCommands.AssertOk(result, args);
        return BankCommands.ParseOne(result);
    }

    private static async Task<(BankProcess.Result Result, TimeSpan Took)> TimedAsync(Func<Task<BankProcess.Result>> run)
    {
        var clock = Stopwatch.StartNew();
        var result = await run();
        return (result, clock.Elapsed);
    }

    private string Refused((BankProcess.Result Result, TimeSpan Took) refusal, string what)
    {
        output.WriteLine($"{what} ({refusal.Took.TotalSeconds:0.0} s): {refusal.Result.Stderr.Trim()}");
        var line = BankCommands.AssertOneLineError(refusal.Result, 4, what);
        Assert.True(refusal.Took < TimeSpan.FromSeconds(12), $"{what} took {refusal.Took}");
        return line;
    }

    public void Dispose() => _root.Dispose();
}
