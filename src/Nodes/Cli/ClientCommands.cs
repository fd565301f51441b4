using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Registry;

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
        ["open"] = "bank open NAME --balance B [--minimal M] [--key KEY] [--get-if-exists]",
        ["balance"] = "bank balance NAME",
        ["deposit"] = "bank deposit NAME AMOUNT",
        ["withdraw"] = "bank withdraw NAME AMOUNT",
        ["get"] = "bank get NAME",
        ["kill"] = "bank kill NAME",
        ["list"] = "bank list",
        ["history"] = "bank history NAME",
    };

    public async Task<int> RunAsync(string command, IReadOnlyList<string> args)
    {
        var usage = Usages[command];
        var parsed = command == "open"
            ? Arguments.Parse(args, ["address", "balance", "minimal", "key"], ["get-if-exists", "detached"])
            : Arguments.Parse(args, ["address"], []);
        parsed.ExpectPositionals(command switch { "list" => 0, "deposit" or "withdraw" => 2, _ => 1 }, usage);
        var name = parsed.Positionals.Count > 0 ? parsed.Positionals[0] : null;
        if (name is not null && Names.ValidateActorName(name) is { } badName)
            throw new UsageException(badName);
        var amount = command is "deposit" or "withdraw" ? ParseAmount(parsed.Positionals[1], "AMOUNT") : 0m;

        var contacts = (parsed.Value("address") ?? Environment.GetEnvironmentVariable("BANK_ADDRESS") ?? DefaultAddress)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        await using var client = await BankClient.ConnectAsync(contacts);
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
                };
                if (options.Key is { } key && Names.ValidateAccountKey(key) is { } badKey)
                    throw new UsageException(badKey);
                PrintActor(await session.OpenAsync(name!, options));
                break;
            case "get":
                PrintActor(await session.GetActorAsync(name!));
                break;
            case "balance":
                PrintBalance(name!, await session.BalanceAsync(await session.GetActorAsync(name!)));
                break;
            case "deposit":
                PrintBalance(name!, await session.DepositAsync(await session.GetActorAsync(name!), amount));
                break;
            case "withdraw":
                PrintBalance(name!, await session.WithdrawAsync(await session.GetActorAsync(name!), amount));
                break;
            case "kill":
                var killed = await session.KillAsync(name!);
                if (output.Json) output.Object(Output.Actor(killed));
                else output.Line($"Killed {killed}; the name '{killed.Name}' is free and the journal is kept");
                break;
            case "list":
                await ListAsync(session);
                break;
            case "history":
                await HistoryAsync(session, name!);
                break;
        }

        return ExitCodes.Ok;
    }

    private static decimal ParseAmount(string text, string what) =>
        Money.TryParse(text, out var amount, out var error) ? amount : throw new UsageException($"{what}: {error}");

    private void PrintActor(ActorInfo actor)
    {
        if (output.Json) output.Object(Output.Actor(actor));
        else output.Line(actor.ToString());
    }

    private void PrintBalance(string name, decimal balance)
    {
        if (output.Json) output.Object(new JsonObject { ["name"] = name, ["balance"] = balance });
        else output.Line(Money.Format(balance));
    }

    private async Task ListAsync(BankSession session)
    {
        var actors = await session.ListAsync();
        // Balances and nodes come from the live accounts themselves, asked all at once: an account that moved to
        // another node after a failover says where it runs now.
        var status = await Task.WhenAll(actors.Select(async a =>
        {
            if (a.State != ActorState.Alive) return null;
            try
            {
                return await session.StatusAsync(a);
            }
            catch (BankException)
            {
                return null;
            }
        }));
        actors = [.. actors.Select((a, i) => status[i] is { } now ? a with { Node = now.Node } : a)];
        var balances = status.Select(s => s?.Balance).ToArray();

        if (output.Json)
        {
            var array = new JsonArray();
            for (var i = 0; i < actors.Count; i++)
            {
                var item = Output.Actor(actors[i]);
                item["balance"] = balances[i];
                item["resources"] = new JsonObject();
                array.Add(item);
            }

            output.Object(new JsonObject { ["actors"] = array });
            return;
        }

        output.Table(
            ["NAME", "STATE", "NODE", "RESTARTS", "DETACHED", "BALANCE", "DEATH CAUSE", "ID"],
            [.. actors.Select((a, i) => (IReadOnlyList<string>)
            [
                a.Name, Output.StateName(a.State), a.Node, a.Restarts.ToString(), a.Detached ? "yes" : "no",
                balances[i] is { } b ? Money.Format(b) : "-", a.DeathCause ?? "-", a.Id,
            ])]);
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
