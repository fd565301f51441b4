using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank demo`: the "Remote Actors" chapter's scripts, end to end, on an embedded one-node cluster.
/// Everything found in the data folder is kept; each run uses fresh account keys, so its output is the same every time.
/// </summary>
public sealed class DemoCommand(TextWriter output)
{
    public const string Usage = "bank demo [--data DIR] [--journal sqlite|postgres] [--connection STRING]";

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var parsed = Arguments.Parse(args, ["data", "journal", "connection"], []);
        parsed.ExpectPositionals(0, Usage);
        var (persistence, where) = JournalOptions.From(parsed);

        output.WriteLine($"bank demo: the Remote Actors chapter on an embedded one-node cluster; data in {where}");
        await using var node = await BankHost.StartAsync(new BankNodeOptions
        {
            Port = 0,
            Persistence = persistence,
        });

        await BasicWalkthroughAsync(node.Gateway);
        await DetachedWalkthroughAsync(node.Gateway);
        await PersistenceWalkthroughAsync(node.Gateway);
        output.WriteLine();
        output.WriteLine("Demo finished: the cluster is leaving; the journal stays in " + where);
        return ExitCodes.Ok;
    }

    /// <summary>Example 4-2: balance, withdraw, deposit; then a call through a handle looked up by name.</summary>
    private async Task BasicWalkthroughAsync(IBankGateway gateway)
    {
        Heading("An Account actor: balance, withdraw, deposit, and a call through ray.get_actor('Account')");
        await using var session = new BankSession(gateway);
        var account = await session.OpenAsync("Account", new AccountOptions(Balance: 99m, MinimalBalance: 0m));
        Info($"Current Balance: {Money.Format(await session.BalanceAsync(account))}");
        Info($"Balance after Withdraw: {Money.Format(await session.WithdrawAsync(account, 66m))}");
        Info($"Balance after Deposit: {Money.Format(await session.DepositAsync(account, 33m))}");
        var byName = await session.GetActorAsync("Account");
        Info($"Balance after Deposit: {Money.Format(await session.DepositAsync(byName, 33m))}");
        // The session ends here, like Ray's driver: its non-detached actor dies with it (OWNER_DIED).
    }

    /// <summary>Detached actor: look it up by name, kill it, and the lookup fails with a clear error.</summary>
    private async Task DetachedWalkthroughAsync(IBankGateway gateway)
    {
        Heading("A detached, named actor: get it by name, kill it, look it up again");
        await using var session = new BankSession(gateway);
        await session.OpenAsync("Account", new AccountOptions(100m, 20m) { Detached = true });
        Info((await session.GetActorAsync("Account")).ToString());
        await session.KillAsync("Account");
        Info("Actor killed");
        try
        {
            await session.GetActorAsync("Account");
            throw new InvalidOperationException("the killed actor was still found by name");
        }
        catch (BankException notFound) when (notFound.Kind == Hosting.Accounts.ErrorKind.ActorNotFound)
        {
            Info($"ray.get_actor('Account') failed: {notFound.Message}");
        }
    }

    /// <summary>Persistence: kill the actor, reopen it with the same key, and its state is back under a new id.</summary>
    private async Task PersistenceWalkthroughAsync(IBankGateway gateway)
    {
        Heading("State that survives a kill: reopen with the same key");
        await using var session = new BankSession(gateway);
        var key = $"1234567-{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var options = new AccountOptions(99m, 20m) { Key = key };
        var first = await session.OpenAsync("Account", options);
        Info($"Current balance {Money.Format(await session.BalanceAsync(first))}");
        Info($"New balance {Money.Format(await session.WithdrawAsync(first, 33m))}");
        Info((await session.GetActorAsync("Account")).ToString());
        await session.KillAsync("Account");
        Info("Account actor killed");
        var second = await session.OpenAsync("Account", options);
        Info($"Current balance {Money.Format(await session.BalanceAsync(second))}");
        Info((await session.GetActorAsync("Account")).ToString());
    }

    private void Heading(string text)
    {
        output.WriteLine();
        output.WriteLine($"# {text}");
    }

    private void Info(string text) => output.WriteLine($"INFO :: {text}");
}
