using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>The registry of names (DESIGN.md §5): unique live names, atomic get-or-create, lifetimes and death causes.</summary>
public class RegistrySpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    private static readonly AccountOptions Hundred = new(100m, 0m);

    [Fact]
    public async Task Opening_a_live_name_again_fails_with_AlreadyExists()
    {
        await using var session = NewSession();
        var name = Unique("taken");
        await session.OpenAsync(name, Hundred);

        var error = await Assert.ThrowsAsync<BankException>(() => session.OpenAsync(name, Hundred));

        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.Equal($"Actor with name '{name}' already exists", error.Message);
    }

    [Fact]
    public async Task Opening_a_live_name_with_GetIfExists_returns_the_live_actor()
    {
        await using var session = NewSession();
        var name = Unique("shared");
        var first = await session.OpenAsync(name, Hundred);
        await session.DepositAsync(first, 1m);

        var again = await session.OpenAsync(name, new AccountOptions(5m, 0m) { GetIfExists = true });

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.Key, again.Key);
        Assert.Equal(101m, await session.BalanceAsync(again));
    }

    [Fact]
    public async Task Two_concurrent_opens_of_one_new_name_create_it_once_and_the_other_gets_AlreadyExists()
    {
        await using var session = NewSession();
        var name = Unique("race");

        var outcomes = await Task.WhenAll(OutcomeAsync(session.OpenAsync(name, Hundred)), OutcomeAsync(session.OpenAsync(name, Hundred)));

        var created = Assert.Single(outcomes, o => o.Actor is not null);
        var refused = Assert.Single(outcomes, o => o.Error is not null);
        Assert.Equal(ErrorKind.AlreadyExists, refused.Error!.Kind);
        Assert.Equal(created.Actor!.Id, (await session.GetActorAsync(name)).Id);
    }

    [Fact]
    public async Task Two_concurrent_opens_of_one_new_name_with_GetIfExists_get_the_same_actor()
    {
        await using var session = NewSession();
        var name = Unique("race");
        var options = Hundred with { GetIfExists = true };

        var actors = await Task.WhenAll(session.OpenAsync(name, options), session.OpenAsync(name, options));

        Assert.Equal(actors[0].Id, actors[1].Id);
        Assert.Single(await session.ListAsync(), a => a.Name == name);
    }

    [Fact]
    public async Task A_second_name_for_a_key_in_use_is_rejected()
    {
        await using var session = NewSession();
        var key = Unique("key");
        var holder = Unique("holder");
        await session.OpenAsync(holder, Hundred with { Key = key });

        var error = await Assert.ThrowsAsync<BankException>(() => session.OpenAsync(Unique("thief"), Hundred with { Key = key }));

        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.Equal($"Account key '{key}' is in use by actor '{holder}'", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_000)]
    public async Task Empty_or_overlong_names_are_a_usage_error(int length)
    {
        await using var session = NewSession();

        var error = await Assert.ThrowsAsync<BankException>(() => session.OpenAsync(new string('x', length), Hundred));

        Assert.Equal(ErrorKind.Usage, error.Kind);
        Assert.DoesNotContain(new string('x', 200), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_a_session_kills_its_actors_with_OWNER_DIED_and_keeps_detached_ones_alive()
    {
        var owned = Unique("owned");
        var detached = Unique("detached");
        var session = NewSession();
        await session.OpenAsync(owned, Hundred);
        await session.OpenAsync(detached, Hundred with { Detached = true });

        await session.DisposeAsync();

        await using var observer = NewSession();
        var actors = await observer.ListAsync();
        var ownedInfo = Assert.Single(actors, a => a.Name == owned);
        Assert.Equal(ActorState.Dead, ownedInfo.State);
        Assert.Equal(DeathCauses.OwnerDied, ownedInfo.DeathCause);
        var detachedInfo = Assert.Single(actors, a => a.Name == detached);
        Assert.Equal(ActorState.Alive, detachedInfo.State);
        Assert.Null(detachedInfo.DeathCause);
        Assert.Equal(100m, await observer.BalanceAsync(detachedInfo));
    }

    [Fact]
    public async Task Disposing_a_session_leaves_the_actors_of_other_sessions_alive()
    {
        await using var other = NewSession();
        var mine = await other.OpenAsync(Unique("mine"), Hundred);

        await using (var session = NewSession())
            await session.OpenAsync(Unique("theirs"), Hundred);

        Assert.Equal(ActorState.Alive, (await other.GetActorAsync(mine.Name)).State);
        Assert.Equal(100m, await other.BalanceAsync(mine));
    }

    [Fact]
    public async Task Exiting_an_actor_records_death_cause_EXITED_and_frees_its_name()
    {
        await using var session = NewSession();
        var name = Unique("exit");
        var actor = await session.OpenAsync(name, Hundred);

        var exited = await session.ExitAsync(actor);

        Assert.Equal(ActorState.Dead, exited.State);
        Assert.Equal(DeathCauses.Exited, exited.DeathCause);
        var listed = Assert.Single(await session.ListAsync(), a => a.Name == name);
        Assert.Equal(DeathCauses.Exited, listed.DeathCause);
        Assert.NotEqual(actor.Id, (await session.OpenAsync(name, Hundred)).Id);
    }

    private static async Task<(ActorInfo? Actor, BankException? Error)> OutcomeAsync(Task<ActorInfo> open)
    {
        try
        {
            return (await open, null);
        }
        catch (BankException error)
        {
            return (null, error);
        }
    }
}
