using Xunit;

namespace Bank.Domain.Tests;

/// <summary>The registry's table of names as a pure fold of its journal: plain xunit, no actor system.</summary>
public class RegistryStateSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static ActorInfo Alive(string name, string key, string id) =>
        new(name, key, id, ActorState.Alive, null, true, null, "akka.tcp://bank@127.0.0.1:4053", 0, Now, null);

    private static ActorDeathRecorded Death(ActorInfo actor, string cause = DeathCauses.Killed, int minutes = 1) =>
        new(actor.Name, actor.Id, cause, Now.AddMinutes(minutes));

    [Fact]
    public void A_registered_actor_is_found_by_its_name_and_holds_its_key()
    {
        var saver = Alive("Saver", "key-1", "id-1");

        var state = RegistryState.Empty(10).Apply(new ActorRegistered(saver));

        Assert.Equal(saver, state.Find("Saver"));
        Assert.Equal("Saver", state.NameUsingKey("key-1"));
        Assert.Equal([saver], state.All());
        Assert.Empty(state.Dead);
    }

    [Fact]
    public void A_recorded_death_frees_the_name_and_the_key_and_keeps_the_actor_among_the_dead()
    {
        var saver = Alive("Saver", "key-1", "id-1");
        var registered = RegistryState.Empty(10).Apply(new ActorRegistered(saver));

        var state = registered.Apply(Death(saver, DeathCauses.Exited));

        Assert.Null(state.Find("Saver"));
        Assert.Null(state.NameUsingKey("key-1"));
        var dead = Assert.Single(state.Dead);
        Assert.Equal(saver with { State = ActorState.Dead, DeathCause = DeathCauses.Exited, DiedAt = Now.AddMinutes(1) }, dead);
        Assert.Equal([dead], state.All());
    }

    [Fact]
    public void A_death_recorded_for_an_earlier_id_of_the_name_is_ignored()
    {
        var old = Alive("Saver", "key-1", "id-1");
        var current = Alive("Saver", "key-2", "id-2");
        var state = RegistryState.Empty(10)
            .Apply(new ActorRegistered(old))
            .Apply(Death(old))
            .Apply(new ActorRegistered(current));

        var after = state.Apply(Death(old, DeathCauses.OwnerDied, minutes: 2));

        Assert.Same(state, after);
        Assert.Equal(current, after.Find("Saver"));
        Assert.Equal("Saver", after.NameUsingKey("key-2"));
    }

    [Fact]
    public void A_death_recorded_for_an_unknown_name_is_ignored()
    {
        var state = RegistryState.Empty(10).Apply(new ActorRegistered(Alive("Saver", "key-1", "id-1")));

        Assert.Same(state, state.Apply(Death(Alive("Nobody", "key-9", "id-9"))));
    }

    [Fact]
    public void Only_the_newest_deaths_up_to_keep_dead_are_kept()
    {
        var state = RegistryState.Empty(keepDead: 3);
        for (var i = 0; i < 5; i++)
        {
            var actor = Alive($"A{i}", $"key-{i}", $"id-{i}");
            state = state.Apply(new ActorRegistered(actor)).Apply(Death(actor, minutes: i));
        }

        Assert.Equal(["A2", "A3", "A4"], state.Dead.Select(a => a.Name));
        Assert.Empty(state.Live);
    }

    [Fact]
    public void Keep_dead_zero_forgets_every_death()
    {
        var actor = Alive("A", "key", "id");

        var state = RegistryState.Empty(keepDead: 0).Apply(new ActorRegistered(actor)).Apply(Death(actor));

        Assert.Empty(state.Dead);
        Assert.Null(state.Find("A"));
    }

    [Fact]
    public void A_snapshot_restores_the_live_actors_their_keys_and_the_dead()
    {
        var saver = Alive("Saver", "key-1", "id-1");
        var spender = Alive("Spender", "key-2", "id-2");
        var gone = Alive("Gone", "key-3", "id-3");
        var state = RegistryState.Empty(10)
            .Apply(new ActorRegistered(saver))
            .Apply(new ActorRegistered(gone))
            .Apply(new ActorRegistered(spender))
            .Apply(Death(gone));

        var restored = RegistryState.FromSnapshot(state.ToSnapshot(), keepDead: 10);

        Assert.Equal(state.Live.OrderBy(p => p.Key), restored.Live.OrderBy(p => p.Key));
        Assert.Equal(state.NamesByKey.OrderBy(p => p.Key), restored.NamesByKey.OrderBy(p => p.Key));
        Assert.Equal(state.Dead, restored.Dead);
        Assert.Equal(state.All(), restored.All());
        Assert.Equal("Spender", restored.NameUsingKey("key-2"));
        Assert.Null(restored.NameUsingKey("key-3"));
        // The restored table folds later events as the original would.
        Assert.Equal(
            state.Apply(Death(saver)).All(),
            restored.Apply(Death(saver)).All());
    }

    [Fact]
    public void A_name_taken_over_by_a_new_registration_no_longer_holds_its_earlier_key()
    {
        var old = Alive("Saver", "key-1", "id-1");
        var current = Alive("Saver", "key-2", "id-2");

        var state = RegistryState.Empty(10).Apply(new ActorRegistered(old)).Apply(new ActorRegistered(current));

        Assert.Null(state.NameUsingKey("key-1"));
        Assert.Equal("Saver", state.NameUsingKey("key-2"));
        Assert.Equal(current, state.Find("Saver"));
        // The earlier holder's late death neither frees the name nor the new key.
        var after = state.Apply(Death(old));
        Assert.Equal(current, after.Find("Saver"));
        Assert.Equal("Saver", after.NameUsingKey("key-2"));
    }

    [Fact]
    public void An_event_the_registry_does_not_know_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RegistryState.Empty(10).Apply("not an event"));
    }
}
