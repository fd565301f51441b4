using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;
using Spectre.Console;

namespace Bank.Nodes.Cli;

/// <summary>
/// Bank's Petabridge.Cmd-style inspection: `bank cluster show|leave|down|down-unreachable|tail`, `bank actor hierarchy`
/// and `bank shards`, through the same ClusterClient gateway as the account commands (no extra port).
/// </summary>
public sealed class InspectionCommands(Output output)
{
    private static readonly Argument<string> MemberAddress = MemberAddressArgument();

    private static readonly Argument<string> ActorPath = new("PATH")
    {
        Arity = ArgumentArity.ZeroOrOne, Description = "Where the tree starts (default /user).",
    };

    private static readonly Option<string?> Depth = new("--depth") { HelpName = "N", Description = "How many levels to show, 0 to 50 (default 4)." };

    private static readonly Option<string?> OnNode = new("--node") { HelpName = "ADDRESS", Description = "The node to look at (default: the one the client reaches)." };

    private static readonly Option<string?> ShardType = new("--type")
    {
        HelpName = "account|transfer", Description = "Only that shard type's regions.", CompletionSources = { "account", "transfer" },
    };

    private static readonly Option<bool> Entities = new("--entities") { Description = "List the entity ids of each shard too." };

    /// <summary>`bank status`, `bank cluster ...`, `bank actor hierarchy` and `bank shards`, each with the action that runs it.</summary>
    public static IEnumerable<Command> Create()
    {
        var status = new Command("status",
            "Each node: roles, actors, actors placed with resources, each resource used/total (like `ray status`); actors pending for " +
            "want of resources.") { SharedOptions.ClusterAddress, SharedOptions.Tls };
        status.SetAction((parsed, _) => Run(parsed, async (c, session) => c.PrintClusterStatus(await session.ClusterStatusAsync())));

        var show = new Command("show", "Members: address, status, roles, reachability, leader, oldest, up since.") { SharedOptions.ClusterAddress, SharedOptions.Tls };
        show.SetAction((parsed, _) => Run(parsed, async (c, session) => c.PrintMembers(await session.ClusterViewAsync())));
        var leave = new Command(ChangeMembership.Leave, "That member leaves gracefully.") { MemberAddress, SharedOptions.ClusterAddress, SharedOptions.Tls };
        leave.SetAction((parsed, _) => Run(parsed, (c, session) => c.ChangeMembershipAsync(session, ChangeMembership.Leave, parsed.GetRequiredValue(MemberAddress))));
        var down = new Command(ChangeMembership.Down, "That member is downed (for one that is gone for good).") { MemberAddress, SharedOptions.ClusterAddress, SharedOptions.Tls };
        down.SetAction((parsed, _) => Run(parsed, (c, session) => c.ChangeMembershipAsync(session, ChangeMembership.Down, parsed.GetRequiredValue(MemberAddress))));
        var downUnreachable = new Command(ChangeMembership.DownUnreachable, "Every unreachable member is downed.") { SharedOptions.ClusterAddress, SharedOptions.Tls };
        downUnreachable.SetAction((parsed, _) => Run(parsed, (c, session) => c.ChangeMembershipAsync(session, ChangeMembership.DownUnreachable, null)));
        var tail = new Command("tail", "Membership events as they happen, until Ctrl+C.") { SharedOptions.ClusterAddress, SharedOptions.Tls };
        tail.SetAction(async (parsed, _) =>
        {
            var commands = new InspectionCommands(BankCli.OutputOf(parsed));
            await using var client = await TlsOptions.ConnectAsync(parsed);
            await using var session = client.OpenSession();
            return await commands.TailAsync(session);
        });
        // --address on the group too, so that `bank cluster --address X` is refused for its missing action, not for X.
        var cluster = new Command("cluster", "Cluster membership, like Petabridge.Cmd's cluster commands.")
        {
            show, leave, down, downUnreachable, tail, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };

        var hierarchy = new Command("hierarchy", "A node's actors under PATH as an indented tree.") { ActorPath, Depth, OnNode, SharedOptions.ClusterAddress, SharedOptions.Tls };
        hierarchy.SetAction((parsed, _) =>
        {
            var depth = parsed.GetValue(Depth) is { } text
                ? int.TryParse(text, out var n) && n is >= 0 and <= 50 ? n
                    : throw new UsageException($"--depth must be a whole number from 0 to 50, not '{TextEcho.OneLine(text)}'")
                : 4;
            return Run(parsed, async (c, session) => c.PrintActorTree(await session.ActorTreeAsync(parsed.GetValue(ActorPath) ?? "/user", depth, parsed.GetValue(OnNode))));
        });
        var actor = new Command("actor", "A node's actors.") { hierarchy, SharedOptions.ClusterAddress, SharedOptions.Tls };

        var shards = new Command("shards", "Per node, shard regions with shard and entity counts (and entity ids, by id, read a page at a time).")
        {
            ShardType, Entities, PageOptions.Limit, PageOptions.AfterEntity, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };
        shards.SetAction((parsed, _) =>
        {
            if (parsed.GetValue(ShardType) is { } type && type is not ("account" or "transfer"))
                throw new UsageException($"--type must be account or transfer, not '{TextEcho.OneLine(type)}'");
            var entities = parsed.GetValue(Entities);
            var limit = PageOptions.LimitOf(parsed);
            if (!entities && (limit is not null || parsed.GetValue(PageOptions.AfterEntity) is not null))
                throw new UsageException("--limit and --after page the entity ids: they go with --entities");
            return Run(parsed, async (c, session) => c.PrintShards(await ReadShardsAsync(session, parsed.GetValue(ShardType), entities,
                parsed.GetValue(PageOptions.AfterEntity), limit), entities));
        });

        return [status, cluster, actor, shards];
    }

    /// <summary>ADDRESS of `bank cluster leave|down`, refused before anything connects when it is not HOST:PORT.</summary>
    private static Argument<string> MemberAddressArgument()
    {
        var argument = new Argument<string>("ADDRESS") { Description = "The member, HOST:PORT, as `bank cluster show` prints it." };
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && Inspector.ParseAddress(result.Tokens[0].Value) is null)
                result.AddError($"'{TextEcho.OneLine(result.Tokens[0].Value)}' is not a node address: use HOST:PORT, as `bank cluster show` prints it");
        });
        return argument;
    }

    /// <summary>The shards, and with entities the pages of their ids up to <paramref name="limit"/> (all without one).</summary>
    private static async Task<ShardsView> ReadShardsAsync(BankSession session, string? type, bool entities, string? after, int? limit)
    {
        var pages = new List<ShardsView>();
        var count = 0;
        do
        {
            var page = await session.ShardsPageAsync(type, entities, after, PageOptions.NextAsk(limit, count));
            pages.Add(page);
            count += page.Regions.Sum(r => r.Detail?.Sum(s => s.EntityIds.Count) ?? 0);
            after = page.Next;
        } while (after is not null && (limit is null || count < limit));

        return Pages.Join(pages) with { Next = after };
    }

    /// <summary>Connects (after every argument was checked), runs <paramref name="command"/> in a session, and exits 0.</summary>
    private static async Task<int> Run(ParseResult parsed, Func<InspectionCommands, BankSession, Task> command)
    {
        var commands = new InspectionCommands(BankCli.OutputOf(parsed));
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        await command(commands, session);
        return ExitCodes.Ok;
    }

    private async Task ChangeMembershipAsync(BankSession session, string action, string? address)
    {
        var changed = await session.ChangeMembershipAsync(action, address);
        if (output.Json)
            output.PrintJson(new JsonObject { ["action"] = changed.Action, ["members"] = new JsonArray([.. changed.Addresses.Select(a => (JsonNode?)a)]) });
        else if (changed.Addresses.Count == 0)
            output.Line("No member is unreachable; nothing to down");
        else
            output.Line($"{(changed.Action == ChangeMembership.Leave ? "Asked to leave" : "Downed")}: {string.Join(", ", changed.Addresses)}");
    }

    private void PrintMembers(ClusterView view)
    {
        if (output.Json)
        {
            output.PrintJson(new JsonObject
            {
                ["node"] = view.Node,
                ["members"] = new JsonArray([.. view.Members.Select(m => (JsonNode?)new JsonObject
                {
                    ["address"] = m.Address, ["status"] = m.Status, ["roles"] = new JsonArray([.. Shown(m.Roles).Select(r => (JsonNode?)r)]),
                    ["reachable"] = m.Reachable, ["leader"] = m.Leader, ["oldest"] = m.Oldest, ["up_since"] = m.UpSince?.ToString("O"),
                })]),
            });
            return;
        }

        output.Table(["ADDRESS", "STATUS", "ROLES", "REACHABLE", "LEADER", "OLDEST", "UP SINCE"],
            [.. view.Members.Select(m => (IReadOnlyList<string>)
            [
                m.Address, m.Status, !Shown(m.Roles).Any() ? "-" : string.Join(",", Shown(m.Roles)), m.Reachable ? "yes" : "NO",
                m.Leader ? "yes" : "", m.Oldest ? "yes" : "", m.UpSince?.ToString("u") ?? "-",
            ])],
            colour: (row, column) => column switch
            {
                1 => row[1] == "Up" ? Color.Green : Color.Yellow,
                3 => row[3] == "yes" ? Color.Green : Color.Red,
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
                        output.PrintJson(new JsonObject { ["seq"] = e.Seq, ["at"] = e.At.ToString("O"), ["event"] = e.Kind, ["address"] = e.Address, ["status"] = e.Status });
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

    private void PrintActorTree(ActorTree tree)
    {
        if (output.Json)
        {
            output.PrintJson(new JsonObject { ["node"] = tree.Node, ["root"] = NodeJson(tree.Root) });
            return;
        }

        output.Line($"{tree.Node}{tree.Root.Path}");
        PrintChildren(tree.Root, "");

        void PrintChildren(ActorNode node, string indent)
        {
            for (var i = 0; i < node.Children.Count; i++)
            {
                var last = i == node.Children.Count - 1 && node.Hidden == 0;
                output.Line($"{indent}{(last ? "└─ " : "├─ ")}{node.Children[i].Name}");
                PrintChildren(node.Children[i], indent + (last ? "   " : "│  "));
            }

            if (node.Hidden > 0) output.Line($"{indent}└─ ... {node.Hidden} more (raise --depth)");
        }

        static JsonObject NodeJson(ActorNode node) => new()
        {
            ["name"] = node.Name, ["path"] = node.Path, ["hidden"] = node.Hidden,
            ["children"] = new JsonArray([.. node.Children.Select(c => (JsonNode?)NodeJson(c))]),
        };
    }

    /// <summary>
    /// Like `ray status`: each node, its roles and actors, how many of them hold resources there (placed), and each
    /// resource used of total; then the actors waiting for a node with their resources free (PENDING_CREATION).
    /// </summary>
    private void PrintClusterStatus(ClusterStatus status)
    {
        var nodes = status.Nodes.OrderBy(n => n.Address, StringComparer.Ordinal).ToList();
        if (output.Json)
        {
            output.PrintJson(new JsonObject
            {
                ["nodes"] = new JsonArray([.. nodes.Select(n => (JsonNode?)new JsonObject
                {
                    ["address"] = n.Address, ["roles"] = new JsonArray([.. Shown(n.Roles).Select(r => (JsonNode?)r)]), ["actors"] = n.Actors,
                    ["placed"] = n.Placed,
                    ["resources"] = new JsonObject { ["total"] = Output.ResourcesJson(n.Total), ["used"] = Output.ResourcesJson(n.Used), ["free"] = Output.ResourcesJson(n.Free) },
                })]),
                ["pending"] = status.Pending,
            });
            return;
        }

        foreach (var node in nodes)
        {
            output.Line($"Node {node.Address}  roles: {(!Shown(node.Roles).Any() ? "-" : string.Join(", ", Shown(node.Roles)))}  actors: {node.Actors}  placed: {node.Placed}");
            foreach (var (name, total) in Output.InRayOrder(node.Total))
                output.Line($"  {name,-14} {ResourceSet.Describe(name, node.Used.GetValueOrDefault(name))}/{ResourceSet.Describe(name, total)} used, " +
                            $"{ResourceSet.Describe(name, node.Free.GetValueOrDefault(name))} free");
        }

        output.Line($"{nodes.Count} node(s), {nodes.Sum(n => n.Actors)} actor(s), {nodes.Sum(n => n.Placed)} placed with resources, " +
                    $"{status.Pending} pending (PENDING_CREATION: no node has their resources free)");
    }

    private void PrintShards(ShardsView view, bool entities)
    {
        var regions = view.Regions.OrderBy(r => r.Type, StringComparer.Ordinal).ThenBy(r => r.Node, StringComparer.Ordinal).ToList();
        if (output.Json)
        {
            var json = new JsonObject
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
            };
            if (view.Next is { } more) json["next"] = more;
            output.PrintJson(json);
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

        if (view.Next is { } next)
            output.Line(PageOptions.MoreLine(next));
    }

    /// <summary>A node's roles as people read them: without the role that tells where its client door is.</summary>
    public static IEnumerable<string> Shown(IEnumerable<string> roles) => roles.Where(role => Hosting.Door.ClientDoor.AddressIn(role) is null);
}
