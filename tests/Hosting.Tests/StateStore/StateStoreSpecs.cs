using Akka.Actor;
using Akka.Hosting;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.StateStore;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>A node whose persistence workers may be crashed on purpose, and are taken for dead after 1 s of silence.</summary>
public sealed class StateStoreFixture : FaultInjectionFixture
{
    protected override string Hocon => base.Hocon + "\nbank.state-store { worker-timeout = 1s, max-retries = -1 }";
}

/// <summary>Issue 6: persistence workers keep a query-side state store equal to the journal, whatever happens to them.</summary>
public sealed class StateStoreSpecs(StateStoreFixture fixture) : BankNodeSpec<StateStoreFixture>(fixture)
{
    private static readonly TimeSpan CatchUpWithin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_store_holds_each_accounts_name_balance_minimal_and_version()
    {
        await using var session = NewSession();
        var name = Unique("stored");
        var account = await session.OpenAsync(name, new AccountOptions(100m, 10m) { Detached = true });
        await session.DepositAsync(account, 25.5m);
        await session.WithdrawAsync(account, 5m);

        var row = await CaughtUpRowAsync(session, account.Key);

        Assert.Equal((name, 120.5m, 10m, 3L), (row.Name, row.Balance, row.MinimalBalance, row.Version));
    }

    [Fact]
    public async Task Workers_crashing_under_load_are_restarted_and_the_store_ends_equal_to_the_journal()
    {
        await using var session = NewSession();
        var accounts = new List<ActorInfo>();
        for (var i = 0; i < 12; i++)
            accounts.Add(await session.OpenAsync(Unique($"load-{i}"), new AccountOptions(1000m, 0m) { Detached = true }));

        var crashes = 0;
        var load = Enumerable.Range(0, 4).Select(async lane =>
        {
            for (var i = 0; i < 60; i++)
            {
                var account = accounts[(lane * 60 + i) % accounts.Count];
                if (i % 2 == 0) await session.DepositAsync(account, 1m + lane);
                else await session.WithdrawAsync(account, 0.5m);
                if (lane == 0 && i % 6 == 0)
                {
                    // Every worker crashes on the batch it gets next, while the load goes on.
                    await session.CrashPersistenceWorkersAsync();
                    Interlocked.Increment(ref crashes);
                }
            }
        });
        await Task.WhenAll(load);

        var progress = await CaughtUpAsync(session);
        var stored = (await session.StoredAccountsAsync([.. accounts.Select(a => a.Key)])).Accounts.ToDictionary(a => a.Key);
        foreach (var account in accounts)
        {
            var history = await session.HistoryAsync(account.Name);
            var last = history.Events.Last(e => e.Type is "opened" or "reopened" or "deposited" or "withdrawn" || e.Type.StartsWith("closed", StringComparison.Ordinal));
            Assert.Equal((account.Name, await session.BalanceAsync(account), last.Seq),
                (stored[account.Key].Name, stored[account.Key].Balance, stored[account.Key].Version));
        }

        Assert.True(crashes >= 10, $"only {crashes} crashes were injected");
        Assert.True(progress.Retried > 0, "no batch had to be sent again, so no worker died with one");
        Assert.True(progress.RowsByWorker.Count >= 2, $"the rows went to {progress.RowsByWorker.Count} worker(s) only");
    }

    [Fact]
    public async Task A_worker_refuses_a_wrong_batch_as_an_application_error_and_keeps_going()
    {
        var worker = Sys.ActorOf(Props.Create<StateStoreWorker>());
        var wrong = new StoreBatch(1, [new AccountRow(string.Empty, -1, 1m, null, null, DateTimeOffset.UtcNow)]);

        worker.Tell(wrong, TestActor);
        Assert.Contains("is not an account update", (await ExpectMsgAsync<BatchRefused>()).Reason);

        var key = Unique("direct");
        worker.Tell(new StoreBatch(2, [new AccountRow(key, 4, 40m, 0m, null, DateTimeOffset.UtcNow)]), TestActor);
        Assert.Equal(1, (await ExpectMsgAsync<BatchStored>()).Rows);
    }

    [Fact]
    public async Task A_row_never_goes_back_to_an_older_version_whatever_order_updates_come_in()
    {
        var store = new AccountStateStore(Fixture.Data.Persistence);
        var key = Unique("order");
        var at = DateTimeOffset.UtcNow;

        await store.WriteAsync([new AccountRow(key, 0, null, null, "Named", at)]);
        await store.WriteAsync([new AccountRow(key, 5, 50m, null, null, at)]);
        await store.WriteAsync([new AccountRow(key, 1, 10m, 3m, null, at), new AccountRow(key, 4, 40m, null, null, at)]);
        await store.WriteAsync([new AccountRow(key, 5, 50m, null, null, at)]);

        var row = (await store.ReadAsync([key])).Single();
        Assert.Equal(("Named", 50m, 3m, 5L), (row.Name, row.Balance, row.MinimalBalance, row.Version));
    }

    private async Task<StoredAccount> CaughtUpRowAsync(BankSession session, string key)
    {
        await CaughtUpAsync(session);
        return (await session.StoredAccountsAsync([key])).Accounts.Single();
    }

    /// <summary>Waits until the store holds everything the journal had when the wait began.</summary>
    private async Task<StateStoreProgress> CaughtUpAsync(BankSession session)
    {
        var head = (await session.StateStoreProgressAsync()).Head;
        StateStoreProgress? progress = null;
        await AwaitAssertAsync(async () =>
        {
            progress = await session.StateStoreProgressAsync();
            Assert.True(progress.Offset >= head, $"the state store is at journal offset {progress.Offset}, not yet at {head}");
        }, CatchUpWithin, TimeSpan.FromMilliseconds(200));
        return progress!;
    }
}

/// <summary>The store catches up from the journal after its feeder was stopped, from the offset it stored.</summary>
public sealed class StateStoreCatchUpSpecs
{
    [Fact]
    public async Task Events_written_while_no_feeder_ran_reach_the_store_when_one_starts_again()
    {
        using var data = new TempDataDirectory();
        ActorInfo account;
        string name = "catch-up";
        await using (var withoutStore = await InProcessCluster.StartAsync(hocon: StateStore(enabled: false), data: data))
        {
            await using var session = withoutStore.NewSession();
            account = await session.OpenAsync(name, new AccountOptions(10m, 1m) { Detached = true });
            for (var i = 0; i < 20; i++) await session.DepositAsync(account, 1m);
        }

        await using var withStore = await InProcessCluster.StartAsync(hocon: StateStore(enabled: true), data: data);
        await using var again = withStore.NewSession();
        var head = (await again.StateStoreProgressAsync()).Head;
        await Eventually.ReadsAsync(() => again.StateStoreProgressAsync(), p => p.Offset >= head,
            $"the store to catch up to journal offset {head}");

        var row = (await again.StoredAccountsAsync([account.Key])).Accounts.Single();
        Assert.Equal((name, 30m, 1m, 21L), (row.Name, row.Balance, row.MinimalBalance, row.Version));
        Assert.Equal(0, (await again.StoredAccountsAsync([account.Key])).Lag);
    }

    private static string StateStore(bool enabled) => $"bank.state-store.enabled = {(enabled ? "on" : "off")}";
}
