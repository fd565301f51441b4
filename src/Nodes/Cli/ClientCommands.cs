using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Registry;
using Bank.Hosting.StateStore;

namespace Bank.Nodes.Cli;

/// <summary>
/// The account commands of `bank`: each connects to the cluster through ClusterClient (--address HOST:PORT, else
/// $BANK_ADDRESS, else 127.0.0.1:4053), does one thing, and prints the result or one error line.
/// The CLI opens detached actors: a one-shot process cannot own an actor that outlives it.
/// </summary>
public sealed class ClientCommands(Output output)
{
    public const string DefaultAddress = "127.0.0.1:4053";

    public static readonly IReadOnlyDictionary<string, string> Usages = new Dictionary<string, string>
    {
        ["open"] = "bank open NAME --balance B [--minimal M] [--key KEY] [--get-if-exists] [--max-restarts N] [--max-task-retries N] " +
                   "[--num-cpus N] [--num-gpus N] [--memory SIZE] [--resources NAME=N,...]",
        ["balance"] = "bank balance NAME [--from-store]",
        ["deposit"] = "bank deposit NAME AMOUNT",
        ["withdraw"] = "bank withdraw NAME AMOUNT",
        ["get"] = "bank get NAME",
        ["kill"] = "bank kill NAME",
        ["list"] = "bank list",
        ["history"] = "bank history NAME",
        ["transfer"] = "bank transfer FROM TO AMOUNT [--id ID]",
        ["chaos"] = "bank chaos crash NAME [--times N] | bank chaos kill-node ADDRESS",
    };

    public async Task<int> RunAsync(string command, IReadOnlyList<string> args)
    {
        var usage = Usages[command];
        var parsed = command switch
        {
            "open" => Arguments.Parse(args, ["address", "balance", "minimal", "key", "max-restarts", "max-task-retries",
                "num-cpus", "num-gpus", "memory", "resources"], ["get-if-exists", "detached"]),
            "chaos" => Arguments.Parse(args, ["address", "times"], []),
            "transfer" => Arguments.Parse(args, ["address", "id"], []),
            "balance" => Arguments.Parse(args, ["address"], ["from-store"]),
            _ => Arguments.Parse(args, ["address"], []),
        };
        if (command == "chaos")
            return await ChaosAsync(parsed, usage);
        parsed.ExpectPositionals(command switch { "list" => 0, "deposit" or "withdraw" => 2, "transfer" => 3, _ => 1 }, usage);
        var names = command == "transfer" ? parsed.Positionals.Take(2).ToList() : parsed.Positionals.Take(1).ToList();
        foreach (var each in names)
            if (Names.ValidateActorName(each) is { } badName)
                throw new UsageException(badName);
        var name = names.FirstOrDefault();
        var amount = command switch
        {
            "deposit" or "withdraw" => ParseAmount(parsed.Positionals[1], "AMOUNT"),
            "transfer" => ParseAmount(parsed.Positionals[2], "AMOUNT"),
            _ => 0m,
        };
        var supervision = command == "open"
            ? new Supervision(ParseCount(parsed.Value("max-restarts"), "--max-restarts"), ParseCount(parsed.Value("max-task-retries"), "--max-task-retries"))
            : Supervision.Default;
        if (supervision.Validate() is { } badSupervision)
            throw new UsageException(badSupervision);
        // Checked here, before connecting: a mistake costs no round trip and gets exit 2 even with no cluster running.
        var resources = command == "open" ? ResourceOptions.Parse(parsed) : ResourceOptions.None;

        await using var client = await BankClient.ConnectAsync(Contacts(parsed));
        await using var session = client.OpenSession();

        switch (command)
        {
            case "open":
                var options = new AccountOptions(
                    ParseAmount(parsed.Value("balance") ?? throw new UsageException($"--balance is required; usage: {usage}"), "--balance"),
                    parsed.Value("minimal") is { } minimal ? ParseAmount(minimal, "--minimal") : 0m)
                {
                    Key = parsed.Value("key"),
                    Detached = true,
                    GetIfExists = parsed.Has("get-if-exists"),
                    MaxRestarts = supervision.MaxRestarts,
                    MaxTaskRetries = supervision.MaxTaskRetries,
                    NumCpus = resources.NumCpus,
                    NumGpus = resources.NumGpus,
                    Memory = resources.Memory,
                    CustomResources = resources.Custom,
                };
                if (options.Key is { } key && Names.ValidateAccountKey(key) is { } badKey)
                    throw new UsageException(badKey);
                PrintOpened(await session.OpenAsync(name!, options));
                break;
            case "get":
                PrintActor(await session.GetActorAsync(name!));
                break;
            case "balance" when parsed.Has("from-store"):
                await StoredBalanceAsync(session, name!);
                break;
            case "balance":
                PrintBalance(name!, await session.BalanceAsync(name!));
                break;
            case "deposit":
                PrintBalance(name!, await session.DepositAsync(name!, amount));
                break;
            case "withdraw":
                PrintBalance(name!, await session.WithdrawAsync(name!, amount));
                break;
            case "kill":
                var killed = await session.KillAsync(name!);
                if (output.Json) output.Object(Output.Actor(killed));
                else output.Line($"Killed {killed}; the name '{killed.Name}' is free and the journal is kept" +
                                 (killed.Held.IsEmpty ? "" : $"; what it held is released ({Placement.Describe(killed.Held)})"));
                break;
            case "list":
                await ListAsync(session);
                break;
            case "history":
                await HistoryAsync(session, name!);
                break;
            case "transfer":
                var from = await session.GetActorAsync(names[0]);
                var to = await session.GetActorAsync(names[1]);
                var transferId = parsed.Value("id");
                if (transferId is not null && Names.ValidateAccountKey(transferId) is not null)
                    throw new UsageException($"--id must be 1 to 128 letters, digits, '-', '_', '.' or ':', not '{TextEcho.OneLine(transferId)}'");
                var done = await session.TransferAsync(from, to, amount, transferId);
                if (output.Json)
                    output.Object(new JsonObject
                    {
                        ["from"] = done.From, ["to"] = done.To, ["amount"] = done.Amount,
                        ["from_balance"] = done.FromBalance, ["to_balance"] = done.ToBalance, ["transfer_id"] = done.TransferId,
                    });
                else
                    output.Line($"Transferred {Money.Format(done.Amount)} from {done.From} to {done.To}: " +
                                $"{done.From} {Money.Format(done.FromBalance)}, {done.To} {Money.Format(done.ToBalance)}");
                break;
        }

        return ExitCodes.Ok;
    }

    /// <summary>`bank chaos crash NAME [--times N]` and `bank chaos kill-node ADDRESS`, for nodes started with --allow-fault-injection.</summary>
    private async Task<int> ChaosAsync(Arguments parsed, string usage)
    {
        var action = parsed.Positionals.Count > 0 ? parsed.Positionals[0] : throw new UsageException($"missing argument; usage: {usage}");
        if (action is not ("crash" or "kill-node"))
            throw new UsageException($"unknown chaos action '{TextEcho.OneLine(action)}'; usage: {usage}");
        parsed.ExpectPositionals(2, usage);
        var target = parsed.Positionals[1];
        if (action == "crash" && Names.ValidateActorName(target) is { } badName)
            throw new UsageException(badName);
        if (action == "kill-node" && parsed.Has("times"))
            throw new UsageException($"--times goes with crash; usage: {usage}");
        var times = parsed.Value("times") is { } text
            ? int.TryParse(text, out var n) && n is >= 1 and <= 1_000_000 ? n
                : throw new UsageException($"--times must be a whole number from 1 to 1000000, not '{TextEcho.OneLine(text)}'")
            : 1;

        await using var client = await BankClient.ConnectAsync(Contacts(parsed));
        await using var session = client.OpenSession();
        if (action == "crash")
        {
            var injected = await session.CrashAsync(target, times);
            if (output.Json)
                output.Object(new JsonObject { ["name"] = target, ["times"] = injected.Times, ["node"] = injected.Node });
            else
                output.Line($"'{target}' will crash on its next {injected.Times} call(s), on {injected.Node}");
        }
        else
        {
            var killed = await session.KillNodeAsync(target);
            if (output.Json) output.Object(new JsonObject { ["killed"] = killed.Address });
            else output.Line($"Killed the node at {killed.Address}: its process exits without leaving the cluster");
        }

        return ExitCodes.Ok;
    }

    /// <summary>--address HOST:PORT[,HOST:PORT...], else $BANK_ADDRESS, else 127.0.0.1:4053.</summary>
    public static string[] Contacts(Arguments parsed) =>
        (parsed.Value("address") ?? Environment.GetEnvironmentVariable("BANK_ADDRESS") ?? DefaultAddress)
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A restart or retry budget: -1 (unlimited) or a whole number from 0.</summary>
    private static int ParseCount(string? text, string what) =>
        text is null ? 0
        : int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= -1 ? n
        : throw new UsageException($"{what} must be -1 (unlimited) or a whole number from 0, not '{TextEcho.OneLine(text)}'");

    private static decimal ParseAmount(string text, string what) =>
        Money.TryParse(text, out var amount, out var error) ? amount : throw new UsageException($"{what}: {error}");

    private void PrintActor(ActorInfo actor)
    {
        if (output.Json) output.Object(Output.Actor(actor));
        else output.Line(actor.ToString());
    }

    /// <summary>
    /// Ray's handle, <c>Actor(Account, id)</c>; for an actor that holds resources a second line says where it runs and
    /// what it holds (an actor that asked for none holds none: its node is in `bank list`).
    /// </summary>
    private void PrintOpened(ActorInfo actor)
    {
        PrintActor(actor);
        if (output.Json || actor.Held.IsEmpty) return;
        output.Line($"{Output.StateName(actor.State)} on {(actor.Node.Length == 0 ? "no node yet" : actor.Node)}, holding {Placement.Describe(actor.Held)}");
    }

    private void PrintBalance(string name, decimal balance)
    {
        if (output.Json) output.Object(new JsonObject { ["name"] = name, ["balance"] = balance });
        else output.Line(Money.Format(balance));
    }

    /// <summary>
    /// `bank balance NAME --from-store`: the account's row in the state store, read from the database without waking
    /// the account; <c>-</c> (null) while the store has no balance for it yet.
    /// </summary>
    private async Task StoredBalanceAsync(BankSession session, string name)
    {
        var actor = await session.GetActorAsync(name);
        var stored = await session.StoredAccountsAsync(new[] { actor.Key });
        var row = Balanced(stored).GetValueOrDefault(actor.Key);
        if (output.Json)
            output.Object(new JsonObject { ["name"] = name, ["balance"] = row?.Balance, ["version"] = row?.Version ?? 0, ["lag"] = stored.Lag });
        else
            output.Line(row is { } known ? Money.Format(known.Balance) : "-");
    }

    /// <summary>The stored rows that hold a balance, by key: a row of version 0 has only the name the registry gave it.</summary>
    private static Dictionary<string, StoredAccount> Balanced(StoredAccounts stored) =>
        stored.Accounts.Where(r => r.Version > 0).ToDictionary(r => r.Key, StringComparer.Ordinal);

    private async Task ListAsync(BankSession session)
    {
        var actors = await session.ListAsync();
        // Nothing here wakes a passivated account. Balances come from the state store, in one query; a dead actor shows
        // none (its key's row may be a later incarnation's). The keys go as an array: the request crosses ClusterClient
        // in JSON that names their type, and a list made by a collection expression is of a type that cannot be read back.
        var stored = session.StoredAccountsAsync(actors.Where(a => a.State != ActorState.Dead).Select(a => a.Key).Distinct().ToArray());
        var running = RunningAccountsAsync(session);
        var rows = Balanced(await stored);
        var runsOn = await running;
        // A plain account runs where sharding keeps its entity, which moves on a failover; one with resources runs
        // where the registry placed it.
        actors = [.. actors.Select(a => a.State == ActorState.Alive && a.Resources is null && runsOn.TryGetValue(a.Key, out var node) ? a with { Node = node } : a)];
        decimal?[] balance = [.. actors.Select(a => a.State != ActorState.Dead && rows.TryGetValue(a.Key, out var row) ? row.Balance : (decimal?)null)];
        var lag = (await stored).Lag;

        if (output.Json)
        {
            var array = new JsonArray();
            for (var i = 0; i < actors.Count; i++)
            {
                var item = Output.Actor(actors[i]);
                item["balance"] = balance[i];
                array.Add(item);
            }

            output.Object(new JsonObject { ["actors"] = array, ["store_lag"] = lag });
            return;
        }

        output.Table(
            ["NAME", "STATE", "NODE", "RESTARTS", "RESOURCES", "DETACHED", "BALANCE", "DEATH CAUSE", "ID"],
            [.. actors.Select((a, i) => (IReadOnlyList<string>)
            [
                a.Name, Output.StateName(a.State), a.Node.Length == 0 ? "-" : a.Node, a.Restarts.ToString(), Output.ShortResources(a.Held),
                a.Detached ? "yes" : "no",
                balance[i] is { } b ? Money.Format(b) : "-", a.DeathCause ?? "-", a.Id,
            ])]);
        if (lag > 0)
            output.Line($"store lag: {lag} event(s)");
    }

    /// <summary>
    /// The node each running account entity is on, by key, from the shard regions (which start no entity); empty if
    /// they do not answer, and the registry's nodes are shown instead.
    /// </summary>
    private static async Task<Dictionary<string, string>> RunningAccountsAsync(BankSession session)
    {
        var running = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var region in (await session.ShardsAsync(BankConstants.AccountShardType, entities: true)).Regions)
                foreach (var key in region.Detail?.SelectMany(s => s.EntityIds) ?? [])
                    running[key] = region.Node;
        }
        catch (BankException)
        {
            running.Clear();
        }

        return running;
    }

    private async Task HistoryAsync(BankSession session, string name)
    {
        var history = await session.HistoryAsync(name);
        if (output.Json)
        {
            var events = new JsonArray();
            foreach (var e in history.Events)
                events.Add(new JsonObject
                {
                    ["seq"] = e.Seq, ["type"] = e.Type, ["amount"] = e.Amount, ["balance"] = e.Balance, ["at"] = e.At.ToString("O"),
                });
            output.Object(new JsonObject { ["name"] = history.Name, ["key"] = history.Key, ["events"] = events });
            return;
        }

        output.Table(["SEQ", "EVENT", "AMOUNT", "BALANCE", "AT"],
            [.. history.Events.Select(e => (IReadOnlyList<string>)
            [
                e.Seq.ToString(), e.Type, e.Amount is { } a ? Money.Format(a) : "-", Money.Format(e.Balance), e.At.ToString("u"),
            ])]);
    }
}
