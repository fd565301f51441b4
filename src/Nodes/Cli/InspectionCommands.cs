using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;

namespace Bank.Nodes.Cli;

/// <summary>
/// Bank's Petabridge.Cmd-style inspection: `bank cluster show|leave|down|down-unreachable|tail`, `bank actor hierarchy`
/// and `bank shards`, through the same ClusterClient gateway as the account commands (no extra port).
/// </summary>
public sealed class InspectionCommands(Output output)
{
    public static readonly IReadOnlyDictionary<string, string> Usages = new Dictionary<string, string>
    {
        ["cluster"] = "bank cluster show | leave ADDRESS | down ADDRESS | down-unreachable | tail",
        ["actor"] = "bank actor hierarchy [PATH] [--depth N] [--node ADDRESS]",
        ["shards"] = "bank shards [--type account|transfer] [--entities]",
        ["status"] = "bank status",
    };

    public async Task<int> RunAsync(string command, IReadOnlyList<string> args)
    {
        var usage = Usages[command];
        var parsed = command switch
        {
            "actor" => Arguments.Parse(args, ["address", "depth", "node"], []),
            "shards" => Arguments.Parse(args, ["address", "type"], ["entities"]),
            _ => Arguments.Parse(args, ["address"], []),
        };
        var action = parsed.Positionals.Count > 0 ? parsed.Positionals[0] : null;
        switch (command)
        {
            case "cluster" when action is "show" or "down-unreachable" or "tail":
            case "actor" when action == "hierarchy" && parsed.Positionals.Count <= 2:
                parsed.ExpectPositionals(action == "hierarchy" ? parsed.Positionals.Count : 1, usage);
                break;
            case "cluster" when action is "leave" or "down":
                parsed.ExpectPositionals(2, usage);
                if (Inspector.ParseAddress(parsed.Positionals[1]) is null)
                    throw new UsageException($"'{TextEcho.OneLine(parsed.Positionals[1])}' is not a node address: use HOST:PORT, as `bank cluster show` prints it");
                break;
            case "status":
                parsed.ExpectPositionals(0, usage);
                break;
            case "shards":
                parsed.ExpectPositionals(0, usage);
                if (parsed.Value("type") is { } type && type is not ("account" or "transfer"))
                    throw new UsageException($"--type must be account or transfer, not '{TextEcho.OneLine(type)}'");
                break;
            default:
                throw new UsageException(action is null
                    ? $"missing argument; usage: {usage}"
                    : $"unknown {command} action '{TextEcho.OneLine(action)}'; usage: {usage}");
        }

        var depth = parsed.Value("depth") is { } text
            ? int.TryParse(text, out var n) && n is >= 0 and <= 50 ? n
                : throw new UsageException($"--depth must be a whole number from 0 to 50, not '{TextEcho.OneLine(text)}'")
            : 4;

        await using var client = await BankClient.ConnectAsync(ClientCommands.Contacts(parsed));
        await using var session = client.OpenSession();
        switch (command, action)
        {
            case ("cluster", "show"):
                Show(await session.ClusterViewAsync());
                break;
            case ("cluster", "tail"):
                return await TailAsync(session);
            case ("cluster", _):
                var changed = await session.ChangeMembershipAsync(action!, action is "leave" or "down" ? parsed.Positionals[1] : null);
                if (output.Json)
                    output.Object(new JsonObject { ["action"] = changed.Action, ["members"] = new JsonArray([.. changed.Addresses.Select(a => (JsonNode?)a)]) });
                else if (changed.Addresses.Count == 0)
                    output.Line("No member is unreachable; nothing to down");
                else
                    output.Line($"{(changed.Action == ChangeMembership.Leave ? "Asked to leave" : "Downed")}: {string.Join(", ", changed.Addresses)}");
                break;
            case ("actor", _):
                Tree(await session.ActorTreeAsync(parsed.Positionals.Count > 1 ? parsed.Positionals[1] : "/user", depth, parsed.Value("node")));
                break;
            case ("status", _):
                Status(await session.ClusterStatusAsync());
                break;
            case ("shards", _):
                Shards(await session.ShardsAsync(parsed.Value("type"), parsed.Has("entities")), parsed.Has("entities"));
                break;
        }

        return ExitCodes.Ok;
    }

    private void Show(ClusterView view)
    {
        if (output.Json)
        {
            output.Object(new JsonObject
            {
                ["node"] = view.Node,
                ["members"] = new JsonArray([.. view.Members.Select(m => (JsonNode?)new JsonObject
                {
                    ["address"] = m.Address, ["status"] = m.Status, ["roles"] = new JsonArray([.. m.Roles.Select(r => (JsonNode?)r)]),
                    ["reachable"] = m.Reachable, ["leader"] = m.Leader, ["oldest"] = m.Oldest, ["up_since"] = m.UpSince?.ToString("O"),
                })]),
            });
            return;
        }

        output.Table(["ADDRESS", "STATUS", "ROLES", "REACHABLE", "LEADER", "OLDEST", "UP SINCE"],
            [.. view.Members.Select(m => (IReadOnlyList<string>)
            [
                m.Address, m.Status, m.Roles.Count == 0 ? "-" : string.Join(",", m.Roles), m.Reachable ? "yes" : "NO",
                m.Leader ? "yes" : "", m.Oldest ? "yes" : "", m.UpSince?.ToString("u") ?? "-",
            ])],
            colour: (row, column) => column switch
            {
                1 => row[1] == "Up" ? Output.Green : Output.Yellow,
                3 => row[3] == "yes" ? Output.Green : Output.Red,
                _ => null,
            });
        var unreachable = view.Members.Count(m => !m.Reachable);
        output.Line($"{view.Members.Count} member(s), {view.Members.Count(m => m.Status == "Up")} up, {unreachable} unreachable (as seen by {view.Node})");
    }

    /// <summary>Prints membership events as they happen, until Ctrl+C or SIGTERM.</summary>
    private async Task<int> TailAsync(BankSession session)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            // The node's recent events first, then the header: whoever reads the header has the history above it.
            long after = 0;
            var header = output.Json;
            while (!stop.IsCancellationRequested)
            {
                MembershipEvents events;
                try
                {
                    events = await session.MembershipEventsAsync(after, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                foreach (var e in events.Events)
                {
                    if (output.Json)
                        output.Object(new JsonObject { ["seq"] = e.Seq, ["at"] = e.At.ToString("O"), ["event"] = e.Kind, ["address"] = e.Address, ["status"] = e.Status });
                    else
                        output.Line($"{e.At:u}  {e.Kind,-11}  {e.Address}  ({e.Status})");
                }

                after = events.Last;
                if (!header)
                {
                    output.Line("Membership events above are the node's recent ones; new ones follow as they happen. Ctrl+C stops.");
                    header = true;
                }

                await output.Stdout.FlushAsync(stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        return ExitCodes.Ok;
    }

    private void Tree(ActorTree tree)
    {
        if (output.Json)
        {
            output.Object(new JsonObject { ["node"] = tree.Node, ["root"] = Json(tree.Root) });
            return;
        }

        output.Line($"{tree.Node}{tree.Root.Path}");
        Print(tree.Root, "");

        void Print(ActorNode node, string indent)
        {
            for (var i = 0; i < node.Children.Count; i++)
            {
                var last = i == node.Children.Count - 1 && node.Hidden == 0;
                output.Line($"{indent}{(last ? "└─ " : "├─ ")}{node.Children[i].Name}");
                Print(node.Children[i], indent + (last ? "   " : "│  "));
            }

            if (node.Hidden > 0) output.Line($"{indent}└─ ... {node.Hidden} more (raise --depth)");
        }

        static JsonObject Json(ActorNode node) => new()
        {
            ["name"] = node.Name, ["path"] = node.Path, ["hidden"] = node.Hidden,
            ["children"] = new JsonArray([.. node.Children.Select(c => (JsonNode?)Json(c))]),
        };
    }

    /// <summary>
    /// Like `ray status`: each node, its roles and actors, how many of them hold resources there (placed), and each
    /// resource used of total; then the actors waiting for a node with their resources free (PENDING_CREATION).
    /// </summary>
    private void Status(ClusterStatus status)
    {
        var nodes = status.Nodes.OrderBy(n => n.Address, StringComparer.Ordinal).ToList();
        if (output.Json)
        {
            output.Object(new JsonObject
            {
                ["nodes"] = new JsonArray([.. nodes.Select(n => (JsonNode?)new JsonObject
                {
                    ["address"] = n.Address, ["roles"] = new JsonArray([.. n.Roles.Select(r => (JsonNode?)r)]), ["actors"] = n.Actors,
                    ["placed"] = n.Placed,
                    ["resources"] = new JsonObject { ["total"] = Output.Amounts(n.Total), ["used"] = Output.Amounts(n.Used), ["free"] = Output.Amounts(n.Free) },
                })]),
                ["pending"] = status.Pending,
            });
            return;
        }

        foreach (var node in nodes)
        {
            output.Line($"Node {node.Address}  roles: {(node.Roles.Count == 0 ? "-" : string.Join(", ", node.Roles))}  actors: {node.Actors}  placed: {node.Placed}");
            foreach (var (name, total) in Output.Ordered(node.Total))
                output.Line($"  {name,-14} {ResourceSet.Describe(name, node.Used.GetValueOrDefault(name))}/{ResourceSet.Describe(name, total)} used, " +
                            $"{ResourceSet.Describe(name, node.Free.GetValueOrDefault(name))} free");
        }

        output.Line($"{nodes.Count} node(s), {nodes.Sum(n => n.Actors)} actor(s), {nodes.Sum(n => n.Placed)} placed with resources, " +
                    $"{status.Pending} pending (PENDING_CREATION: no node has their resources free)");
    }

    private void Shards(ShardsView view, bool entities)
    {
        var regions = view.Regions.OrderBy(r => r.Type, StringComparer.Ordinal).ThenBy(r => r.Node, StringComparer.Ordinal).ToList();
        if (output.Json)
        {
            output.Object(new JsonObject
            {
                ["regions"] = new JsonArray([.. regions.Select(r =>
                {
                    var region = new JsonObject { ["node"] = r.Node, ["type"] = r.Type, ["shards"] = r.Shards, ["entities"] = r.Entities };
                    if (r.Detail is { } detail)
                        region["detail"] = new JsonArray([.. detail.Select(s => (JsonNode?)new JsonObject
                        {
                            ["shard"] = s.ShardId, ["entity_ids"] = new JsonArray([.. s.EntityIds.Select(id => (JsonNode?)id)]),
                        })]);
                    return (JsonNode?)region;
                })]),
            });
            return;
        }

        output.Table(["NODE", "TYPE", "SHARDS", "ENTITIES"],
            [.. regions.Select(r => (IReadOnlyList<string>)[r.Node, r.Type, r.Shards.ToString(), r.Entities.ToString()])]);
        if (!entities) return;
        foreach (var region in regions.Where(r => r.Detail is { Count: > 0 }))
        {
            output.Line("");
            output.Line($"{region.Type} on {region.Node}:");
            foreach (var shard in region.Detail!)
                output.Line($"  shard {shard.ShardId}: {string.Join(", ", shard.EntityIds)}");
        }
    }
}
