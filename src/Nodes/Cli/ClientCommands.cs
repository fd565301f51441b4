using System.CommandLine;
using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>
/// The account commands of `bank`: each connects to the cluster through ClusterClient (--address HOST:PORT, else
/// $BANK_ADDRESS, else 127.0.0.1:4053), does one thing, and prints the result or one error line.
/// The CLI opens detached actors: a one-shot process cannot own an actor that outlives it.
/// </summary>
public sealed partial class ClientCommands(Output output)
{
    public const string DefaultAddress = "127.0.0.1:4053";

    /// <summary>NAME, checked as the registry checks names (<see cref="Names.ValidateActorName"/>) before anything connects.</summary>
    internal static readonly Argument<string> Name = ActorName("NAME", "The actor's name.");

    private static readonly Argument<decimal> Amount = MoneyArgument("AMOUNT", "The amount, a decimal number.");

    private static readonly Option<decimal> Balance = new("--balance")
    {
        HelpName = "B", Required = true, Description = "The opening balance.", CustomParser = MoneyParser("--balance"),
    };

    private static readonly Option<decimal> Minimal = new("--minimal")
    {
        HelpName = "M", Description = "The least balance a withdrawal may leave (default 0).", CustomParser = MoneyParser("--minimal"),
    };

    private static readonly Option<string?> Key = new("--key")
    {
        HelpName = "KEY", Description = "The account's key in the journal: the same key again restores that account's state.",
    };

    private static readonly Option<bool> GetIfExists = new("--get-if-exists")
    {
        Description = "Return the live actor of that name instead of failing.",
    };

    /// <summary>Accepted as Ray users write it; it changes nothing, since a one-shot process cannot own an actor that outlives it.</summary>
    private static readonly Option<bool> Detached = new("--detached")
    {
        Description = "Ray's lifetime=\"detached\": accepted, and what every actor the CLI opens is anyway.",
    };

    private static readonly Option<string?> MaxRestarts = new("--max-restarts")
    {
        HelpName = "N",
        Description = "Restarts after a crash, with exponential backoff, before the actor is DEAD (MAX_RESTARTS_EXCEEDED); default 0, -1 unlimited.",
    };

    private static readonly Option<string?> MaxTaskRetries = new("--max-task-retries")
    {
        HelpName = "N",
        Description = "Resends of a call that was in flight during a crash; default 0, -1 unlimited; needs restarts.",
    };

    private static readonly Option<string?> NumCpus = new("--num-cpus")
    {
        HelpName = "N", Description = "CPUs the actor holds on its node while it lives (1 when it asks for any resource).",
    };

    private static readonly Option<string?> NumGpus = new("--num-gpus") { HelpName = "N", Description = "GPUs the actor holds." };

    private static readonly Option<string?> Memory = new("--memory") { HelpName = "SIZE", Description = "Memory the actor holds: bytes, or 500MiB, 8GiB." };

    private static readonly Option<string?> Resources = new("--resources")
    {
        HelpName = "NAME=N,...", Description = "Custom resources the actor holds (accelerator_x=1); cpu, gpu and memory have their own options.",
    };

    private static readonly Option<bool> FromStore = new("--from-store")
    {
        Description = "The balance in the state store (up to about a second behind the journal), read without waking the account; - while it has none.",
    };

    private static readonly Argument<string> From = ActorName("FROM", "The account the money leaves.");

    private static readonly Argument<string> To = ActorName("TO", "The account the money goes to.");

    private static readonly Option<string?> TransferId = new("--id")
    {
        HelpName = "ID", Description = "The transfer's id (1 to 128 letters, digits, '.', '_', '~' or '-'): the same transfer again under it " +
                                       "returns the first outcome and moves nothing more; another transfer under it is refused.",
    };

    /// <summary>The account commands, each with the action that runs it.</summary>
    public static IEnumerable<Command> Create()
    {
        var open = new Command("open",
            "Open a named, detached Account actor: it lives until `bank kill`. While no node has the resources it asks for free it is " +
            "PENDING_CREATION; after bank.resources.pending-timeout (30 s) the open fails with CREATION_FAILED.")
        {
            Name, Balance, Minimal, Key, GetIfExists, Detached, MaxRestarts, MaxTaskRetries, NumCpus, NumGpus, Memory, Resources,
            RequestIdOption.Id, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };
        open.SetAction((parsed, _) => Run(parsed, c => c.OpenAsync(parsed)));

        var balance = new Command("balance", "Print the account's balance.") { Name, FromStore, SharedOptions.ClusterAddress, SharedOptions.Tls };
        balance.SetAction((parsed, _) => Run(parsed, c => c.BalanceAsync(parsed)));
        var deposit = new Command("deposit", "Deposit AMOUNT and print the new balance.") { Name, Amount, RequestIdOption.Id, RequestIdOption.FirstSent, SharedOptions.ClusterAddress, SharedOptions.Tls };
        deposit.SetAction((parsed, _) => Run(parsed, c => c.DepositOrWithdrawAsync(parsed, deposit: true)));
        var withdraw = new Command("withdraw", "Withdraw AMOUNT and print the new balance; refused below the minimal balance.")
        {
            Name, Amount, RequestIdOption.Id, RequestIdOption.FirstSent, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };
        withdraw.SetAction((parsed, _) => Run(parsed, c => c.DepositOrWithdrawAsync(parsed, deposit: false)));
        var get = new Command("get", "Print Actor(Account, <id of this incarnation>).") { Name, SharedOptions.ClusterAddress, SharedOptions.Tls };
        get.SetAction((parsed, _) => Run(parsed, c => c.GetAsync(parsed)));
        var kill = new Command("kill", "Stop the actor: the name is freed, the journal kept.") { Name, RequestIdOption.Id, SharedOptions.ClusterAddress, SharedOptions.Tls };
        kill.SetAction((parsed, _) => Run(parsed, c => c.KillAsync(parsed)));
        var list = new Command("list",
            "Every actor: name, state, node, restarts, resources, detached, balance, death cause. Balances come from the state store " +
            "(no account is woken), with its lag if it has one. Sorted by name, read a page at a time.")
        {
            PageOptions.Limit, PageOptions.AfterName, PageOptions.AfterId, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };
        list.SetAction((parsed, _) => Run(parsed, c => c.ListAsync(parsed)));
        var history = new Command("history", "The account's events, oldest first, read a page at a time.")
        {
            Name, PageOptions.Limit, PageOptions.AfterSeq, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };
        history.SetAction((parsed, _) => Run(parsed, c => c.HistoryAsync(parsed)));
        var transfer = new Command("transfer",
            "Move money exactly once (a saga: withdraw, deposit, refund if TO refuses); rule texts as for withdraw.")
        {
            From, To, Amount, TransferId, SharedOptions.ClusterAddress, SharedOptions.Tls,
        };
        transfer.SetAction((parsed, _) => Run(parsed, c => c.TransferAsync(parsed)));

        return [open, balance, deposit, withdraw, get, kill, list, history, transfer];
    }

    private static Task<int> Run(ParseResult parsed, Func<ClientCommands, Task<int>> command) =>
        command(new ClientCommands(BankCli.OutputOf(parsed)));

    private static Argument<string> ActorName(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && Names.ValidateActorName(result.Tokens[0].Value) is { } bad)
                result.AddError(bad);
        });
        return argument;
    }

    private static Argument<decimal> MoneyArgument(string name, string description) =>
        new(name) { Description = description, CustomParser = MoneyParser(name) };

    /// <summary>Money is decimal, parsed as DESIGN.md section 4 says (<see cref="Money.TryParse"/>), with its own error text.</summary>
    private static Func<System.CommandLine.Parsing.ArgumentResult, decimal> MoneyParser(string what) => result =>
    {
        if (result.Tokens.Count == 0) return 0m;
        if (Money.TryParse(result.Tokens[0].Value, out var amount, out var error)) return amount;
        result.AddError($"{what}: {error}");
        return 0m;
    };

    private async Task<int> OpenAsync(ParseResult parsed)
    {
        var name = parsed.GetRequiredValue(Name);
        var supervision = new Supervision(ParseCount(parsed.GetValue(MaxRestarts), "--max-restarts"), ParseCount(parsed.GetValue(MaxTaskRetries), "--max-task-retries"));
        if (supervision.Validate() is { } badSupervision)
            throw new UsageException(badSupervision);
        // Checked here, before connecting: a mistake costs no round trip and gets exit 2 even with no cluster running.
        var resources = ResourceOptions.Parse(parsed.GetValue(NumCpus), parsed.GetValue(NumGpus), parsed.GetValue(Memory), parsed.GetValue(Resources));
        var options = new AccountOptions(parsed.GetValue(Balance), parsed.GetValue(Minimal))
        {
            Key = parsed.GetValue(Key),
            Detached = true,
            GetIfExists = parsed.GetValue(GetIfExists),
            MaxRestarts = supervision.MaxRestarts,
            MaxTaskRetries = supervision.MaxTaskRetries,
            NumCpus = resources.NumCpus,
            NumGpus = resources.NumGpus,
            Memory = resources.Memory,
            CustomResources = resources.Custom,
            RequestId = RequestIdOption.Of(parsed),
        };
        if (options.Key is { } key && Names.ValidateAccountKey(key) is { } badKey)
            throw new UsageException(badKey);

        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        PrintOpened(await session.OpenAsync(name, options));
        return ExitCodes.Ok;
    }

    private async Task<int> GetAsync(ParseResult parsed)
    {
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        PrintActor(await session.GetActorAsync(parsed.GetRequiredValue(Name)));
        return ExitCodes.Ok;
    }

    private async Task<int> BalanceAsync(ParseResult parsed)
    {
        var name = parsed.GetRequiredValue(Name);
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        if (parsed.GetValue(FromStore))
            await StoredBalanceAsync(session, name);
        else
            PrintBalance(name, await session.BalanceAsync(name));
        return ExitCodes.Ok;
    }

    private async Task<int> DepositOrWithdrawAsync(ParseResult parsed, bool deposit)
    {
        var name = parsed.GetRequiredValue(Name);
        var (amount, id) = (parsed.GetValue(Amount), RequestIdOption.Of(parsed) ?? Guid.NewGuid().ToString("N"));
        var firstSent = RequestIdOption.FirstSentOf(parsed);
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        // By name: the node's gateway resolves it, so the command costs one round trip.
        PrintBalance(name, (deposit, firstSent) switch
        {
            (true, null) => await session.DepositAsync(name, amount, id),
            (false, null) => await session.WithdrawAsync(name, amount, id),
            (true, { } at) => await session.DepositAsync(name, amount, id, at),
            (false, { } at) => await session.WithdrawAsync(name, amount, id, at),
        });
        return ExitCodes.Ok;
    }

    private async Task<int> KillAsync(ParseResult parsed)
    {
        var id = RequestIdOption.Of(parsed) ?? Guid.NewGuid().ToString("N");
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        var killed = await session.KillAsync(parsed.GetRequiredValue(Name), id);
        if (output.Json) output.PrintJson(Output.ActorJson(killed));
        else output.Line($"Killed {killed}; the name '{killed.Name}' is free and the journal is kept" +
                         (killed.Held.IsEmpty ? "" : $"; what it held is released ({Placement.Describe(killed.Held)})"));
        return ExitCodes.Ok;
    }

    private async Task<int> TransferAsync(ParseResult parsed)
    {
        var amount = parsed.GetValue(Amount);
        // Made here when not given, so that an OutcomeUnknown names the id to resend.
        var transferId = RequestIdOption.Of(parsed, TransferId) ?? Guid.NewGuid().ToString("N");
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        var from = await session.GetActorAsync(parsed.GetRequiredValue(From));
        var to = await session.GetActorAsync(parsed.GetRequiredValue(To));
        var done = await session.TransferAsync(from, to, amount, transferId);
        if (output.Json)
            output.PrintJson(new JsonObject
            {
                ["from"] = done.From, ["to"] = done.To, ["amount"] = done.Amount,
                ["from_balance"] = done.FromBalance, ["to_balance"] = done.ToBalance, ["transfer_id"] = done.TransferId,
            });
        else
            output.Line($"Transferred {Money.Format(done.Amount)} from {done.From} to {done.To}: " +
                        $"{done.From} {Money.Format(done.FromBalance)}, {done.To} {Money.Format(done.ToBalance)}");
        return ExitCodes.Ok;
    }

    /// <summary>--address HOST:PORT[,HOST:PORT...], else $BANK_ADDRESS, else 127.0.0.1:4053.</summary>
    public static string[] ContactPoints(ParseResult parsed) =>
        (parsed.GetValue(SharedOptions.ClusterAddress) ?? Environment.GetEnvironmentVariable("BANK_ADDRESS") ?? DefaultAddress)
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A restart or retry budget: -1 (unlimited) or a whole number from 0.</summary>
    private static int ParseCount(string? text, string what) =>
        text is null ? 0
        : int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= -1 ? n
        : throw new UsageException($"{what} must be -1 (unlimited) or a whole number from 0, not '{TextEcho.OneLine(text)}'");

    private void PrintActor(ActorInfo actor)
    {
        if (output.Json) output.PrintJson(Output.ActorJson(actor));
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
        if (output.Json) output.PrintJson(new JsonObject { ["name"] = name, ["balance"] = balance });
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
        var row = RowsWithBalance(stored).GetValueOrDefault(actor.Key);
        if (output.Json)
            output.PrintJson(new JsonObject { ["name"] = name, ["balance"] = row?.Balance, ["version"] = row?.Version ?? 0, ["lag"] = stored.Lag });
        else
            output.Line(row is { } known ? Money.Format(known.Balance) : "-");
    }

    /// <summary>The stored rows that hold a balance, by key: a row of version 0 has only the name the registry gave it.</summary>
    private static Dictionary<string, StoredAccount> RowsWithBalance(StoredAccounts stored) =>
        stored.Accounts.Where(r => r.Version > 0).ToDictionary(r => r.Key, StringComparer.Ordinal);
}
