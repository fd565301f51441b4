using System.CommandLine;
using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>`bank chaos crash` and `bank chaos kill-node`: fault injection, which only nodes started with --allow-fault-injection accept.</summary>
public sealed class ChaosCommands(Output output)
{
    private static readonly Option<string?> Times = new("--times") { HelpName = "N", Description = "How many of its next calls throw (default 1)." };

    private static readonly Argument<string> NodeAddress = new("ADDRESS") { Description = "The node, HOST:PORT, as `bank cluster show` prints it." };

    public static Command Create()
    {
        var crash = new Command("crash", "The actor throws on its next N calls.") { ClientCommands.Name, Times, SharedOptions.ClusterAddress, SharedOptions.Tls };
        crash.SetAction((parsed, _) => Run(parsed, c => c.CrashAsync(parsed)));
        var killNode = new Command("kill-node", "That node's process dies at once, like kill -9.") { NodeAddress, SharedOptions.ClusterAddress, SharedOptions.Tls };
        killNode.SetAction((parsed, _) => Run(parsed, c => c.KillNodeAsync(parsed)));
        // --address on the group too, so that `bank chaos --address X` is refused for its missing action, not for X.
        return new Command("chaos", "Fault injection, accepted by nodes started with --allow-fault-injection.") { crash, killNode, SharedOptions.ClusterAddress, SharedOptions.Tls };
    }

    private static Task<int> Run(ParseResult parsed, Func<ChaosCommands, Task<int>> command) =>
        command(new ChaosCommands(BankCli.OutputOf(parsed)));

    /// <summary>`bank chaos crash NAME [--times N]`, for nodes started with --allow-fault-injection.</summary>
    private async Task<int> CrashAsync(ParseResult parsed)
    {
        var target = parsed.GetRequiredValue(ClientCommands.Name);
        var times = parsed.GetValue(Times) is { } text
            ? int.TryParse(text, out var n) && n is >= 1 and <= 1_000_000 ? n
                : throw new UsageException($"--times must be a whole number from 1 to 1000000, not '{TextEcho.OneLine(text)}'")
            : 1;
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        var injected = await session.CrashAsync(target, times);
        if (output.Json)
            output.PrintJson(new JsonObject { ["name"] = target, ["times"] = injected.Times, ["node"] = injected.Node });
        else
            output.Line($"'{target}' will crash on its next {injected.Times} call(s), on {injected.Node}");
        return ExitCodes.Ok;
    }

    /// <summary>`bank chaos kill-node ADDRESS`, for nodes started with --allow-fault-injection.</summary>
    private async Task<int> KillNodeAsync(ParseResult parsed)
    {
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        var killed = await session.KillNodeAsync(parsed.GetRequiredValue(NodeAddress));
        if (output.Json) output.PrintJson(new JsonObject { ["killed"] = killed.Address });
        else output.Line($"Killed the node at {killed.Address}: its process exits without leaving the cluster");
        return ExitCodes.Ok;
    }
}
