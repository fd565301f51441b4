using System.CommandLine;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Pools;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank demo`: the "Remote Actors" chapter's scripts, end to end, on an embedded one-node cluster.
/// Everything found in the data folder is kept; each run uses fresh account keys, so its output is the same every time.
/// </summary>
public sealed class DemoCommand(TextWriter output)
{
    /// <summary>The accounts of the pool walkthrough, and its rounds of one deposit into each.</summary>
    private const int PoolAccounts = 6;
    private const int PoolRounds = 3;
    private const decimal PoolDeposit = 5m;

    /// <summary>How long the pool walkthrough waits for the state store to catch up with the journal (it lags by about a second at most).</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The GPUs the demo's node advertises and its vertical-scaling account asks for, as in the chapter.</summary>
    private const int DemoGpus = 4;

    public static Command Create()
    {
        var demo = new Command("demo",
            "The \"Remote Actors\" chapter's scripts, end to end, on an embedded one-node cluster; its journal is SQLite in " +
            "DIR/bank.db (default ./data) or the PostgreSQL database of the connection string.")
        {
            SharedOptions.Data, SharedOptions.Journal, SharedOptions.Connection,
        };
        demo.SetAction((parsed, _) => new DemoCommand(parsed.InvocationConfiguration.Output).RunAsync(parsed));
        return demo;
    }

    public async Task<int> RunAsync(ParseResult parsed)
    {
        var (persistence, where) = JournalOptions.From(parsed);

        output.WriteLine($"bank demo: the Remote Actors chapter on an embedded one-node cluster; data in {where}");
        await using var node = await RunningNode.StartAsync(new BankNodeOptions
        {
            Port = 0,
            Persistence = persistence,
            // The retry walkthrough crashes its account on purpose.
            AllowFaultInjection = true,
            // The vertical-scaling walkthrough asks for 4 GPUs: this node has them, whatever this machine has.
            Resources = new BankNodeOptions().AdvertisedResources.Merge(ResourceSet.Empty.With(ResourceSet.Gpu, DemoGpus)),
        });

        // Ctrl+C or SIGTERM cancels the walkthrough in progress; the node still leaves the cluster cleanly.
        var stopping = node.Stopping;
        await RemoveLeftoverAsync(node.Gateway, stopping);
        await BasicWalkthroughAsync(node.Gateway, stopping);
        await DetachedWalkthroughAsync(node.Gateway, stopping);
        await PersistenceWalkthroughAsync(node.Gateway, stopping);
        await RetryWalkthroughAsync(node.Gateway, stopping);
        await PoolWalkthroughAsync(node.Gateway, stopping);
        await ResourcesWalkthroughAsync(node.Gateway, stopping);
        output.WriteLine();
        output.WriteLine("Demo finished: the cluster is leaving; the journal stays in " + where);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// A run interrupted between opening and killing its detached 'Account' leaves it alive (detached actors outlive
    /// their process); the walkthroughs need the name, so the leftover is killed. Its journal is kept.
    /// </summary>
    private async Task RemoveLeftoverAsync(IBankGateway gateway, CancellationToken ct)
    {
        await using var session = new BankSession(gateway);
        var leftover = (await session.ListAsync(ct)).FirstOrDefault(a => a.Name == "Account" && a.State != Domain.ActorState.Dead);
        if (leftover is null) return;
        await session.KillAsync("Account", ct);
        output.WriteLine($"# Killed {leftover}, a detached 'Account' left alive by an interrupted earlier run");
    }

    /// <summary>Example 4-2: balance, withdraw, deposit; then a call through a handle looked up by name.</summary>
    private async Task BasicWalkthroughAsync(IBankGateway gateway, CancellationToken ct)
    {
        Heading("An Account actor: balance, withdraw, deposit, and a call through ray.get_actor('Account')");
        await using var session = new BankSession(gateway);
        var account = await session.OpenAsync("Account", new AccountOptions(Balance: 99m, MinimalBalance: 0m), ct);
        Info($"Current Balance: {Money.Format(await session.BalanceAsync(account, ct))}");
        Info($"Balance after Withdraw: {Money.Format(await session.WithdrawAsync(account, 66m, ct))}");
        Info($"Balance after Deposit: {Money.Format(await session.DepositAsync(account, 33m, ct))}");
        var byName = await session.GetActorAsync("Account", ct);
        Info($"Balance after Deposit: {Money.Format(await session.DepositAsync(byName, 33m, ct))}");
        // The session ends here, like Ray's driver: its non-detached actor dies with it (OWNER_DIED).
    }

    /// <summary>Detached actor: look it up by name, kill it, and the lookup fails with a clear error.</summary>
    private async Task DetachedWalkthroughAsync(IBankGateway gateway, CancellationToken ct)
    {
        Heading("A detached, named actor: get it by name, kill it, look it up again");
        await using var session = new BankSession(gateway);
        await session.OpenAsync("Account", new AccountOptions(100m, 20m) { Detached = true }, ct);
        Info((await session.GetActorAsync("Account", ct)).ToString());
        await session.KillAsync("Account", ct);
        Info("Actor killed");
        try
        {
            await session.GetActorAsync("Account", ct);
            throw new InvalidOperationException("the killed actor was still found by name");
        }
        catch (BankException notFound) when (notFound.Kind == ErrorKind.ActorNotFound)
        {
            Info($"ray.get_actor('Account') failed: {notFound.Message}");
        }
    }

    /// <summary>Persistence: kill the actor, reopen it with the same key, and its state is back under a new id.</summary>
    private async Task PersistenceWalkthroughAsync(IBankGateway gateway, CancellationToken ct)
    {
        Heading("State that survives a kill: reopen with the same key");
        await using var session = new BankSession(gateway);
        var key = $"1234567-{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var options = new AccountOptions(99m, 20m) { Key = key };
        var first = await session.OpenAsync("Account", options, ct);
        Info($"Current balance {Money.Format(await session.BalanceAsync(first, ct))}");
        Info($"New balance {Money.Format(await session.WithdrawAsync(first, 33m, ct))}");
        Info((await session.GetActorAsync("Account", ct)).ToString());
        await session.KillAsync("Account", ct);
        Info("Account actor killed");
        var second = await session.OpenAsync("Account", options, ct);
        Info($"Current balance {Money.Format(await session.BalanceAsync(second, ct))}");
        Info((await session.GetActorAsync("Account", ct)).ToString());
    }

    /// <summary>
    /// Restarts and task retries: with max_restarts=5 and max_task_retries=-1 the account survives three crashes in a
    /// row, each striking after the deposit was journaled; the call is retried after each restart and applied once.
    /// </summary>
    private async Task RetryWalkthroughAsync(IBankGateway gateway, CancellationToken ct)
    {
        Heading("Restarts and task retries: Account.options(max_restarts=5, max_task_retries=-1)");
        await using var session = new BankSession(gateway);
        var account = await session.OpenAsync("Account", new AccountOptions(100m, 0m) { MaxRestarts = 5, MaxTaskRetries = -1 }, ct);
        Info($"Current balance {Money.Format(await session.BalanceAsync(account, ct))}");
        var crashes = await session.CrashAsync("Account", 3, ct);
        Info($"Injected {crashes.Times} crashes: the account throws on its next {crashes.Times} calls");
        Info($"Balance after Deposit: {Money.Format(await session.DepositAsync(account, 50m, ct))}");
        var status = await session.StatusAsync(account, ct);
        Info($"Restarted {status.Restarts} times of 5; current balance {Money.Format(status.Balance)}");
    }

    /// <summary>
    /// Horizontal scaling, the chapter's pool of three workers: Ray's ActorPool spreads deposits over six accounts, one
    /// per account and round; after each round the demo waits for the state store, which the round-robin pool of three
    /// persistence workers keeps from the journal, so that each round is at least one batch of its own. Round robin
    /// hands consecutive batches to different workers: with three rounds or more, each worker writes some rows (how many
    /// varies from run to run). The balances are then read from the store, without waking an account.
    /// </summary>
    private async Task PoolWalkthroughAsync(IBankGateway gateway, CancellationToken ct)
    {
        Heading("A pool of three workers: ActorPool over accounts, persistence workers behind the state store");
        await using var session = new BankSession(gateway);
        var opening = Enumerable.Range(1, PoolAccounts).Select(i => 10m * i).ToList();
        ActorInfo[] accounts = await Task.WhenAll(opening.Select((balance, i) =>
            session.OpenAsync($"Pool{i + 1}", new AccountOptions(balance, 0m), ct)));
        Info($"Opened {accounts[0].Name} to {accounts[^1].Name} with {Money.Format(opening[0])} to {Money.Format(opening[^1])}: " +
             $"{Money.Format(opening.Sum())} in all");

        var before = await session.StateStoreProgressAsync(ct);
        var pool = new ActorPool<ActorInfo, decimal>(accounts, comparer: ActorPool.SameIncarnation);
        for (var round = 0; round < PoolRounds; round++)
        {
            // As many deposits as accounts, all idle: each account takes one, so the total is the same on every run.
            var total = 0m;
            await foreach (var balance in pool.Map((a, v) => session.DepositAsync(a, v, ct), Enumerable.Repeat(PoolDeposit, PoolAccounts)).WithCancellation(ct))
                total += balance;
            await CaughtUpAsync(session, ct);
            Info($"pool.map(lambda a, v: a.deposit.remote(v), [{Money.Format(PoolDeposit)}] * {PoolAccounts}): " +
                 $"balances {Money.Format(total)} in all; the state store caught up");
        }

        var after = await session.StateStoreProgressAsync(ct);
        // Worker names are node address and routee name (c1, c2, c3): in that order, by number.
        var workers = after.RowsByWorker.Keys.OrderBy(w => w.Length).ThenBy(w => w, StringComparer.Ordinal).ToList();
        for (var i = 0; i < workers.Count; i++)
            Info($"Persistence worker {i + 1} wrote {after.RowsByWorker[workers[i]] - before.RowsByWorker.GetValueOrDefault(workers[i])} row(s)");

        var stored = (await session.StoredAccountsAsync(accounts.Select(a => a.Key).ToArray(), ct)).Accounts.ToDictionary(r => r.Key, StringComparer.Ordinal);
        Info("Balances in the state store: " + string.Join(", ", accounts.Select(a =>
            $"{a.Name} {(stored.TryGetValue(a.Key, out var row) ? Money.Format(row.Balance) : "-")}")));
        // The session ends here: its accounts die with it (OWNER_DIED), and their names are free for the next run.
    }

    /// <summary>
    /// Waits until the state store holds every journal event written so far. The store has no event to wait for, so
    /// its progress is asked again every 50 ms, for <see cref="StoreTimeout"/> at most.
    /// </summary>
    private static async Task CaughtUpAsync(BankSession session, CancellationToken ct)
    {
        var head = (await session.StateStoreProgressAsync(ct)).Head;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var progress = await session.StateStoreProgressAsync(ct);
            if (progress.Offset >= head) return;
            if (clock.Elapsed > StoreTimeout)
                throw new TimeoutException($"the state store did not catch up with the journal in {StoreTimeout.TotalSeconds:0} s " +
                                           $"(it holds events up to offset {progress.Offset} of {head})");
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
        }
    }

    /// <summary>
    /// Vertical scaling: an account that asks for 1 CPU, 4 GPUs and 500 MiB holds them on the node while it lives, as
    /// `bank status` shows, and gives them back when it is killed.
    /// </summary>
    private async Task ResourcesWalkthroughAsync(IBankGateway gateway, CancellationToken ct)
    {
        Heading("Vertical scaling: @ray.remote(num_cpus=1, num_gpus=4, memory=500 * 1024 * 1024)");
        await using var session = new BankSession(gateway);
        var options = new AccountOptions(100m, 0m) { NumCpus = 1, NumGpus = DemoGpus, Memory = 500m * 1024 * 1024 };
        var account = await session.OpenAsync("Account", options, ct);
        Info($"{account} holds {Placement.Describe(account.Held)}");
        Info($"State {Output.StateName(account.State)} on node {account.Node}");
        Info($"Node usage: {await UsageAsync(session, account.Node, ct)}");

        // A second one asking for the same cannot start while the first holds the GPUs: it waits, PENDING_CREATION.
        var waiting = session.OpenAsync("Account2", options, ct);
        var pending = await PendingAsync(session, "Account2", ct);
        Info($"Account2 asks for the same: {Output.StateName(pending.State)} (no node has {DemoGpus} GPUs free)");
        await session.KillAsync("Account", ct);
        Info("Actor killed");
        var second = await waiting;
        Info($"Account2 {Output.StateName(second.State)} on node {second.Node}: the GPUs went to it");
        await session.KillAsync("Account2", ct);
        Info($"Resources released: {await UsageAsync(session, account.Node, ct)}");
    }

    /// <summary>The registry lists an open that waits for resources at once; asked again until it shows.</summary>
    private static async Task<ActorInfo> PendingAsync(BankSession session, string name, CancellationToken ct)
    {
        while (true)
        {
            if ((await session.ListAsync(ct)).FirstOrDefault(a => a.Name == name && a.State == ActorState.PendingCreation) is { } found)
                return found;
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
        }
    }

    /// <summary>Used of total on the node, as `ray status` prints it: <c>4/4 GPU, 1/16 CPU, 500MiB/23.5GiB memory</c>.</summary>
    private static async Task<string> UsageAsync(BankSession session, string node, CancellationToken ct)
    {
        var status = (await session.ClusterStatusAsync(ct)).Nodes.Single(n => n.Address == node);
        return string.Join(", ", new[] { (ResourceSet.Gpu, "GPU"), (ResourceSet.Cpu, "CPU"), (ResourceSet.Memory, "memory") }.Select(r =>
            $"{ResourceSet.Describe(r.Item1, status.Used.GetValueOrDefault(r.Item1))}/{ResourceSet.Describe(r.Item1, status.Total.GetValueOrDefault(r.Item1))} {r.Item2}"));
    }

    private void Heading(string text)
    {
        output.WriteLine();
        output.WriteLine($"# {text}");
    }

    private void Info(string text) => output.WriteLine($"INFO :: {text}");
}
