using Akka.Cluster;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Bank.Testing;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>
/// Tries, through the public client API only (a BankClient over ClusterClient, and a session inside the node, each with
/// its sessions and its raw <see cref="IBankGateway"/>), every way we know to create or destroy money with ids: internal
/// ids pre-applied or replayed, ids reused for other operations, the same id at once from many callers, ids of every
/// bad shape. Each attempt ends with the sum of the balances it touched equal to what the acknowledged operations
/// explain: opening balances plus acknowledged deposits minus acknowledged withdrawals; transfers move, never create.
/// </summary>
public sealed class MoneyIntegritySpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    public static TheoryData<string> Paths => new() { "in-process", "cluster client" };

    /// <summary>Every shape of internal id a client could send to a transfer's parties, per path and call form.</summary>
    public static TheoryData<string, string, bool> PreAppliedSteps()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var path in new[] { "in-process", "cluster client" })
        foreach (var step in new[] { "transfer:{0}:withdraw", "transfer:{0}:deposit", "transfer:{0}:refund", "client:transfer:{0}:deposit" })
        foreach (var byName in new[] { false, true })
            data.Add(path, step, byName);
        return data;
    }

    [Theory]
    [MemberData(nameof(PreAppliedSteps))]
    public async Task A_transfer_step_id_sent_by_a_client_before_the_transfer_neither_moves_nor_hides_money(string path, string step, bool byName)
    {
        await using var caller = await CallerAsync(path);
        var from = await caller.OpenAsync("from", 100m);
        var to = await caller.OpenAsync("to", 10m);
        var transferId = Unique("t");
        var id = string.Format(step, transferId);

        // The transfer's own amount (a step's retry is answered only when it asks the same) on each side under the step's id.
        await caller.RawAsync(step.Contains("withdraw") ? from : to, step.Contains("withdraw") ? new Withdraw(30m, id) : new Deposit(30m, id), byName);
        await caller.TransferAsync(from, to, 30m, transferId);

        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_refund_id_sent_by_a_client_before_the_transfer_does_not_keep_the_refund_from_its_source(string path)
    {
        await using var caller = await CallerAsync(path);
        var from = await caller.OpenAsync("from", 100m);
        var to = await caller.OpenAsync("to", 10m);
        var transferId = Unique("t");
        await caller.RawAsync(from, new Deposit(30m, $"transfer:{transferId}:refund"), byName: false);
        // The target is gone before the transfer: its deposit fails, and the amount must come back to the source.
        await caller.Session.KillAsync(to.Name);

        await caller.TransferAsync(from, to, 30m, transferId);

        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task The_step_ids_of_a_finished_transfer_replayed_by_a_client_move_nothing_unacknowledged(string path)
    {
        await using var caller = await CallerAsync(path);
        var from = await caller.OpenAsync("from", 100m);
        var to = await caller.OpenAsync("to", 10m);
        var transferId = Unique("t");
        await caller.TransferAsync(from, to, 30m, transferId);

        foreach (var byName in new[] { false, true })
        {
            await caller.RawAsync(to, new Deposit(30m, $"transfer:{transferId}:deposit"), byName);
            await caller.RawAsync(from, new Withdraw(30m, $"transfer:{transferId}:withdraw"), byName);
            await caller.RawAsync(from, new Deposit(30m, $"transfer:{transferId}:refund"), byName);
        }

        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_deposit_id_reused_for_a_withdrawal_another_amount_or_another_account_is_refused(string path)
    {
        await using var caller = await CallerAsync(path);
        var a = await caller.OpenAsync("a", 100m);
        var b = await caller.OpenAsync("b", 100m);
        foreach (var byName in new[] { false, true })
        {
            var id = Unique("r");
            Assert.IsType<AccountReply>(await caller.RawAsync(a, new Deposit(5m, id), byName));

            AssertIdReused(await caller.RawAsync(a, new Withdraw(5m, id), byName));
            AssertIdReused(await caller.RawAsync(a, new Deposit(6m, id), byName));
            AssertIdReused(await caller.RawAsync(b, new Deposit(5m, id), byName));
            // The same call again is answered, once applied.
            Assert.Equal(105m + (byName ? 5m : 0m), Assert.IsType<AccountReply>(await caller.RawAsync(a, new Deposit(5m, id), byName)).Balance);
        }

        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_transfer_id_reused_for_another_amount_other_parties_or_another_incarnation_is_refused(string path)
    {
        await using var caller = await CallerAsync(path);
        var a = await caller.OpenAsync("a", 100m);
        var b = await caller.OpenAsync("b", 100m);
        var c = await caller.OpenAsync("c", 100m);
        var id = Unique("t");
        await caller.TransferAsync(a, b, 10m, id);

        foreach (var (from, to, amount) in new[] { (a, b, 11m), (b, a, 10m), (a, c, 10m), (c, b, 10m) })
        {
            var reused = await Assert.ThrowsAsync<BankException>(() => caller.Session.TransferAsync(from, to, amount, id));
            Assert.Equal("TransferIdInUse", reused.Code);
        }

        // The same parties under new incarnations: a handle from before the kill is not the account of now.
        await caller.Session.KillAsync(b.Name);
        var reopened = await caller.Session.OpenAsync(b.Name, new AccountOptions(0m, 0m) { Key = b.Key, Detached = true });
        Assert.Equal("TransferIdInUse", (await Assert.ThrowsAsync<BankException>(() => caller.Session.TransferAsync(a, reopened, 10m, id))).Code);

        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task The_same_id_sent_twenty_times_at_once_is_applied_once(string path)
    {
        await using var caller = await CallerAsync(path);
        var a = await caller.OpenAsync("a", 100m);
        var b = await caller.OpenAsync("b", 100m);
        var (deposit, withdraw, transfer) = (Unique("d"), Unique("w"), Unique("t"));

        await Task.WhenAll(Enumerable.Range(0, 20).SelectMany(i => new[]
        {
            caller.RawAsync(a, new Deposit(7m, deposit), byName: i % 2 == 0),
            caller.RawAsync(b, new Withdraw(3m, withdraw), byName: false),
            caller.TransferAsync(a, b, 11m, transfer),
        }));

        await caller.AssertBalancedAsync();
        Assert.Equal(100m + 7m - 11m, await caller.Session.BalanceAsync(a));
    }

    public static TheoryData<string, string> BadIds()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in new[] { "in-process", "cluster client" })
        foreach (var id in new[] { new string('x', 129), "", "a:b", "a b", "café", "a\tb", "a\u0000", "line\nbreak" })
            data.Add(path, id);
        return data;
    }

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task An_id_too_long_empty_or_outside_the_set_is_a_usage_error_and_moves_nothing(string path, string id)
    {
        await using var caller = await CallerAsync(path);
        var a = await caller.OpenAsync("a", 100m);
        var b = await caller.OpenAsync("b", 100m);

        AssertUsage(await Assert.ThrowsAsync<BankException>(() => caller.Session.DepositAsync(a, 5m, id)));
        AssertUsage(await Assert.ThrowsAsync<BankException>(() => caller.Session.WithdrawAsync(a.Name, 5m, id)));
        AssertUsage(await Assert.ThrowsAsync<BankException>(() => caller.Session.TransferAsync(a, b, 5m, id)));
        foreach (var byName in new[] { false, true })
            AssertBadId(await caller.RawAsync(a, new Deposit(5m, id), byName));
        AssertBadId(await caller.Gateway.RequestAsync(new TransferMoney(id, Party(a), Party(b), 5m)));
        AssertBadId(await caller.Gateway.RequestAsync(new OpenActor(Unique("x"), null, 5m, 0m, true, false, null, id)));
        AssertBadId(await caller.Gateway.RequestAsync(new KillActor(a.Name, DeathCauses.Killed, RequestId: id)));

        Assert.Equal(a.Id, (await caller.Session.GetActorAsync(a.Name)).Id);
        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task An_id_of_128_characters_from_the_set_is_accepted(string path)
    {
        await using var caller = await CallerAsync(path);
        var a = await caller.OpenAsync("a", 100m);
        var b = await caller.OpenAsync("b", 100m);
        var id = "A.b_c~d-" + Guid.NewGuid().ToString("N") + new string('z', 128 - 8 - 32);

        Assert.IsType<AccountReply>(await caller.RawAsync(a, new Deposit(5m, id), byName: false));
        await caller.TransferAsync(a, b, 5m, id);
        Assert.Equal(id, Assert.Single((await caller.Session.HistoryAsync(a.Name)).Events, e => e.Type == "deposited").RequestId);

        await caller.AssertBalancedAsync();
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task An_open_or_kill_id_reused_for_another_request_is_refused(string path)
    {
        await using var caller = await CallerAsync(path);
        var id = Unique("o");
        var first = Unique("first");
        var open = new OpenActor(first, null, 50m, 0m, true, false, null, id);
        var opened = Assert.IsType<ActorInfo>(await caller.Gateway.RequestAsync(open));
        caller.Ledger.Opened(opened, 50m);

        Assert.Equal(opened.Id, Assert.IsType<ActorInfo>(await caller.Gateway.RequestAsync(open)).Id);
        AssertIdReused(await caller.Gateway.RequestAsync(open with { Name = Unique("second") }));
        AssertIdReused(await caller.Gateway.RequestAsync(open with { Balance = 1_000_000m }));
        AssertIdReused(await caller.Gateway.RequestAsync(new KillActor(first, DeathCauses.Killed, RequestId: id)));

        var killId = Unique("k");
        var other = await caller.OpenAsync("other", 20m);
        Assert.IsType<ActorInfo>(await caller.Gateway.RequestAsync(new KillActor(other.Name, DeathCauses.Killed, RequestId: killId)));
        AssertIdReused(await caller.Gateway.RequestAsync(new OpenActor(Unique("third"), null, 1_000_000m, 0m, true, false, null, killId)));

        Assert.Equal(opened.Id, (await caller.Session.GetActorAsync(first)).Id);
        await caller.AssertBalancedAsync();
    }

    [Fact]
    public async Task An_open_id_held_by_an_open_under_way_is_refused_for_another_open()
    {
        await using var caller = await CallerAsync("in-process");
        var id = Unique("o");
        var waiting = new OpenActor(Unique("waits"), null, 5m, 0m, true, false, null, id,
            Resources: new Dictionary<string, decimal> { ["no_node_has_this"] = 1m });
        // No node has the resource: the open stays PENDING_CREATION, holding its request id, until the pending timeout.
        var pending = caller.Gateway.RequestAsync(waiting);
        await Eventually.HoldsAsync(async () => (await caller.Session.ListAsync()).Any(a => a.Name == waiting.Name && a.State == ActorState.PendingCreation),
            "the open to wait for a node");

        AssertIdReused(await caller.Gateway.RequestAsync(waiting with { Name = Unique("other"), Resources = null }));

        await caller.AssertBalancedAsync();
        // The waiting open ends by itself with CREATION_FAILED after the pending timeout; nobody waits for it here.
        _ = pending;
    }

    private static void AssertIdReused(object answer) => Assert.Equal(nameof(Rules.IdReused), Assert.IsType<Rejected>(answer).Code);

    private static void AssertBadId(object answer)
    {
        var refused = Assert.IsType<Rejected>(answer);
        Assert.Equal((ErrorKind.Usage, "BadId"), (refused.Kind, refused.Code));
        Assert.DoesNotContain('\n', refused.Message);
    }

    private static void AssertUsage(BankException error)
    {
        Assert.Equal(ErrorKind.Usage, error.Kind);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static TransferParty Party(ActorInfo actor) => new(actor.Name, actor.Key, actor.Id);

    private async Task<Caller> CallerAsync(string path)
    {
        if (path == "in-process") return new Caller(NewGateway(), null, Unique);
        var client = await BankClient.ConnectAsync([$"127.0.0.1:{Cluster.Get(Sys).SelfAddress.Port}"]);
        return new Caller(client.Gateway, client, Unique);
    }

    /// <summary>A client on one path, and the ledger of what the cluster acknowledged to it.</summary>
    private sealed class Caller(IBankGateway gateway, BankClient? client, Func<string, string> unique) : IAsyncDisposable
    {
        public IBankGateway Gateway { get; } = gateway;

        public BankSession Session { get; } = new(gateway);

        public Ledger Ledger { get; } = new();

        public async Task<ActorInfo> OpenAsync(string prefix, decimal balance)
        {
            var actor = await Session.OpenAsync(unique(prefix), new AccountOptions(balance, 0m) { Detached = true });
            Ledger.Opened(actor, balance);
            return actor;
        }

        /// <summary>An account call as a client that bypasses the session's checks sends it; acknowledged ones go in the ledger.</summary>
        public async Task<object> RawAsync(ActorInfo actor, IAccountCommand command, bool byName)
        {
            var answer = byName
                ? await Gateway.CallAccountAsync(new NamedAccountRequest(actor.Name, command))
                : await Gateway.CallAccountAsync(new AccountRequest(actor.Key, actor.Id, command));
            if (answer is AccountReply)
            {
                var (id, change) = command switch
                {
                    Deposit d => (d.RequestId, d.Amount),
                    Withdraw w => (w.RequestId, -w.Amount),
                    _ => (null, 0m),
                };
                Ledger.Acknowledged($"{actor.Name} {id} {change}", actor.Name, change);
            }

            return answer;
        }

        /// <summary>A transfer; an acknowledged one moves money and creates none, so the ledger does not change.</summary>
        public async Task TransferAsync(ActorInfo from, ActorInfo to, decimal amount, string id)
        {
            try
            {
                var done = await Session.TransferAsync(from, to, amount, id);
                Ledger.Acknowledged($"transfer {id}", from.Name, -done.Amount);
                Ledger.Acknowledged($"transfer {id} in", to.Name, done.Amount);
            }
            catch (BankException refused) when (refused.Kind is ErrorKind.RuleViolation or ErrorKind.ActorDied or ErrorKind.Usage)
            {
            }
        }

        /// <summary>
        /// The sum of the balances (read from each account's journal, dead or alive) is what the ledger explains, and so is
        /// each balance: transfers acknowledged moved their amount, and nothing else moved.
        /// </summary>
        public async Task AssertBalancedAsync()
        {
            var balances = new Dictionary<string, decimal>();
            foreach (var name in Ledger.Names)
                balances[name] = (await Session.HistoryAsync(name)).Events[^1].Balance;
            Assert.Equal(Ledger.Total, balances.Values.Sum());
            Assert.Equal(Ledger.Balances, balances);
        }

        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            if (client is not null) await client.DisposeAsync();
        }
    }

    /// <summary>Opening balances plus acknowledged changes, each acknowledged operation counted once.</summary>
    private sealed class Ledger
    {
        private readonly Dictionary<string, decimal> _balances = [];
        private readonly HashSet<string> _operations = [];

        public IEnumerable<string> Names => _balances.Keys;

        public IReadOnlyDictionary<string, decimal> Balances => _balances;

        public decimal Total => _balances.Values.Sum();

        public void Opened(ActorInfo actor, decimal balance) => _balances[actor.Name] = balance;

        public void Acknowledged(string operation, string name, decimal change)
        {
            lock (_operations)
                if (_operations.Add(operation)) _balances[name] += change;
        }
    }
}
