using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Ray's named actors: get by name, kill, and reopen a name with the same key to restore the state; and calls by name,
/// which the node's gateway resolves (and remembers) inside the cluster, always reaching the name's current incarnation.
/// </summary>
public class NamedActorSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public async Task Looking_up_a_killed_detached_actor_by_name_fails_with_a_clear_ActorNotFound_error()
    {
        await using var session = NewSession();
        var opened = await session.OpenAsync("Account", new AccountOptions(100m, 20m) { Detached = true });
        Assert.Equal(opened.Id, (await session.GetActorAsync("Account")).Id);

        var killed = await session.KillAsync("Account");
        Assert.Equal(DeathCauses.Killed, killed.DeathCause);

        var error = await Assert.ThrowsAsync<BankException>(() => session.GetActorAsync("Account"));
        Assert.Equal(ErrorKind.ActorNotFound, error.Kind);
        Assert.Equal("no actor named 'Account'", error.Message);
    }

    [Fact]
    public async Task A_handle_to_a_killed_actor_fails_with_ActorDied()
    {
        await using var session = NewSession();
        var name = Unique("handle");
        var handle = await session.OpenAsync(name, new AccountOptions(100m, 0m) { Detached = true });
        await session.KillAsync(name);

        var error = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(handle, 5m));

        Assert.Equal(ErrorKind.ActorDied, error.Kind);
        Assert.Contains(handle.Id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopening_a_killed_name_with_the_same_key_restores_the_balance_under_a_new_id()
    {
        await using var session = NewSession();
        var name = Unique("reopen");
        var options = new AccountOptions(99m, 20m) { Key = Unique("key") };
        var first = await session.OpenAsync(name, options);
        Assert.Equal(66m, await session.WithdrawAsync(first, 33m));
        await session.KillAsync(name);

        var second = await session.OpenAsync(name, options);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(options.Key, second.Key);
        Assert.Equal(66m, await session.BalanceAsync(second));
        Assert.Equal(second.Id, (await session.GetActorAsync(name)).Id);
        // The old handle still points at the earlier incarnation, which stays dead.
        var stale = await Assert.ThrowsAsync<BankException>(() => session.BalanceAsync(first));
        Assert.Equal(ErrorKind.ActorDied, stale.Kind);
    }

    [Fact]
    public async Task Killing_an_unknown_name_fails_with_ActorNotFound()
    {
        await using var session = NewSession();
        var name = Unique("nobody");

        var error = await Assert.ThrowsAsync<BankException>(() => session.KillAsync(name));

        Assert.Equal(ErrorKind.ActorNotFound, error.Kind);
        Assert.Equal($"no actor named '{name}'", error.Message);
    }

    [Fact]
    public async Task Calls_by_name_deposit_withdraw_and_read_the_named_actor()
    {
        await using var session = NewSession();
        var name = Unique("by-name");
        await session.OpenAsync(name, new AccountOptions(100m, 20m));

        Assert.Equal(150m, await session.DepositAsync(name, 50m));
        Assert.Equal(120m, await session.WithdrawAsync(name, 30m));
        Assert.Equal(120m, await session.BalanceAsync(name));
        var rule = await Assert.ThrowsAsync<BankException>(() => session.WithdrawAsync(name, 101m));
        Assert.Equal((ErrorKind.RuleViolation, "Withdrawal is not supported by current balance"), (rule.Kind, rule.Message));
    }

    [Fact]
    public async Task A_call_by_name_resent_under_its_request_id_is_applied_once()
    {
        await using var session = NewSession();
        var name = Unique("resent");
        await session.OpenAsync(name, new AccountOptions(100m, 0m));
        var requestId = Unique("req");

        Assert.Equal(110m, await session.DepositAsync(name, 10m, requestId));
        Assert.Equal(110m, await session.DepositAsync(name, 10m, requestId));
        Assert.Equal(80m, await session.WithdrawAsync(name, 30m, requestId + "-w"));
        Assert.Equal(80m, await session.WithdrawAsync(name, 30m, requestId + "-w"));

        Assert.Equal(80m, await session.BalanceAsync(name));
    }

    [Fact]
    public async Task A_call_by_name_resent_after_the_name_went_to_another_account_is_answered_ActorDied_and_applied_once()
    {
        await using var session = NewSession();
        var name = Unique("moved-on");
        await session.OpenAsync(name, new AccountOptions(100m, 0m) { Key = Unique("key") });
        var requestId = Unique("req");
        // The first attempt is applied, and its answer is what a client whose reply was lost never saw.
        Assert.Equal(110m, await session.DepositAsync(name, 10m, requestId));
        await session.KillAsync(name);
        var other = await session.OpenAsync(name, new AccountOptions(7m, 0m) { Key = Unique("key") });

        var resent = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(name, 10m, requestId));

        Assert.Equal(ErrorKind.ActorDied, resent.Kind);
        Assert.Equal(7m, await session.BalanceAsync(other));
    }

    [Fact]
    public async Task A_call_by_an_unknown_name_fails_with_ActorNotFound()
    {
        await using var session = NewSession();
        var name = Unique("nobody");

        var error = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(name, 5m));

        Assert.Equal((ErrorKind.ActorNotFound, $"no actor named '{name}'"), (error.Kind, error.Message));
    }

    [Fact]
    public async Task A_call_by_name_after_the_name_was_killed_fails_with_ActorNotFound_and_applies_nothing()
    {
        await using var session = NewSession();
        var name = Unique("killed");
        var first = await session.OpenAsync(name, new AccountOptions(100m, 0m));
        // The gateway now remembers the name's incarnation.
        Assert.Equal(105m, await session.DepositAsync(name, 5m));
        await session.KillAsync(name);

        var error = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(name, 5m));

        Assert.Equal((ErrorKind.ActorNotFound, $"no actor named '{name}'"), (error.Kind, error.Message));
        Assert.Equal(["opened", "deposited", "closed:KILLED"], (await session.HistoryAsync(name)).Events.Select(e => e.Type));
        Assert.Equal(first.Key, (await session.HistoryAsync(name)).Key);
    }

    [Theory]
    [InlineData("the same key")]
    [InlineData("a new key")]
    public async Task A_call_by_name_after_the_name_was_reopened_reaches_the_new_incarnation(string key)
    {
        await using var session = NewSession();
        var name = Unique("reopened");
        var first = await session.OpenAsync(name, new AccountOptions(100m, 0m) { Key = Unique("key") });
        // The gateway now remembers the first incarnation.
        Assert.Equal(100m, await session.BalanceAsync(name));
        await session.KillAsync(name);
        var second = await session.OpenAsync(name, new AccountOptions(7m, 0m) { Key = key == "the same key" ? first.Key : Unique("key") });

        var balance = await session.DepositAsync(name, 1m);

        Assert.Equal(key == "the same key" ? 101m : 8m, balance);
        Assert.Equal(balance, await session.BalanceAsync(second));
        var stale = await Assert.ThrowsAsync<BankException>(() => session.BalanceAsync(first));
        Assert.Equal(ErrorKind.ActorDied, stale.Kind);
    }
}
