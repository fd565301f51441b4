using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>Ray's named actors: get by name, kill, and reopen a name with the same key to restore the state.</summary>
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
}
