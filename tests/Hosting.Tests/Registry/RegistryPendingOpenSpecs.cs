using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Registry;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// A session can end while one of its opens waits for the account to answer. The registry handles its messages in
/// order and the account answers later, so telling it the open and the owner's end back to back pins that moment.
/// </summary>
public class RegistryPendingOpenSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public async Task An_open_pending_when_its_owner_ends_is_rejected_with_ActorDied_and_never_registered()
    {
        var name = Unique("stillborn");
        var key = Unique("key");
        var owner = Unique("owner");

        NameRegistry.Tell(new OpenActor(name, key, 10m, 0m, Detached: false, GetIfExists: false, Owner: owner), TestActor);
        NameRegistry.Tell(new OwnerEnded(owner), TestActor);

        Assert.Equal(new OwnerReleased(owner, 0), await ExpectMsgAsync<OwnerReleased>());
        var rejected = await ExpectMsgAsync<Rejected>();
        Assert.Equal(ErrorKind.ActorDied, rejected.Kind);
        Assert.Equal(DeathCauses.OwnerDied, rejected.Code);
        NameRegistry.Tell(ListActors.Instance, TestActor);
        Assert.DoesNotContain((await ExpectMsgAsync<ActorList>()).Actors, a => a.Name == name);
        NameRegistry.Tell(new GetActor(name), TestActor);
        Assert.Equal(ErrorKind.ActorNotFound, (await ExpectMsgAsync<Rejected>()).Kind);
        // The account that was created for it is closed: it died as it was born. One probe can go unanswered while the
        // account stops after its close (a CI run under load waited 10 s for its only one), so each try asks again.
        await AwaitAssertAsync(async () =>
        {
            Accounts.Tell(new AccountProbe(key), TestActor);
            Assert.Equal(AccountStatus.Closed, (await ExpectMsgAsync<AccountRecoveryInfo>(TimeSpan.FromSeconds(1))).Status);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task The_name_of_an_open_refused_because_its_owner_ended_is_free_for_the_next_session()
    {
        var name = Unique("stillborn");
        var owner = Unique("owner");
        NameRegistry.Tell(new OpenActor(name, null, 10m, 0m, Detached: false, GetIfExists: false, Owner: owner), TestActor);
        NameRegistry.Tell(new OwnerEnded(owner), TestActor);
        await ExpectMsgAsync<OwnerReleased>();
        await ExpectMsgAsync<Rejected>();

        await using var session = NewSession();
        var actor = await session.OpenAsync(name, new AccountOptions(10m, 0m));

        Assert.Equal(ActorState.Alive, actor.State);
        Assert.Equal(session.Owner, actor.Owner);
        Assert.Equal(10m, await session.BalanceAsync(actor));
    }
}
