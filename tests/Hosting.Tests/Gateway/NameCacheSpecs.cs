using Bank.Domain;
using Bank.Hosting.Gateway;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>The gateway's memory of names: what it forgets, and that it stays small.</summary>
public class NameCacheSpecs
{
    private static ActorInfo Actor(string name, string id) =>
        new(name, "key-" + name, id, ActorState.Alive, null, false, null, "node", 0, DateTimeOffset.UnixEpoch, null);

    [Fact]
    public void A_remembered_name_is_found_until_its_incarnation_is_forgotten()
    {
        var names = new NameCache(10);
        names.Remember(Actor("a", "id-1"));

        Assert.Equal("id-1", names.Find("a")?.Id);
        names.Forget("a", "id-1");
        Assert.Null(names.Find("a"));
    }

    [Fact]
    public void Forgetting_an_earlier_incarnation_keeps_the_newer_one_remembered_since()
    {
        var names = new NameCache(10);
        names.Remember(Actor("a", "id-1"));
        names.Remember(Actor("a", "id-2"));

        names.Forget("a", "id-1");

        Assert.Equal("id-2", names.Find("a")?.Id);
        names.Forget("a");
        Assert.Null(names.Find("a"));
    }

    [Fact]
    public void A_full_cache_starts_again_rather_than_grow()
    {
        var names = new NameCache(3);
        foreach (var name in new[] { "a", "b", "c" }) names.Remember(Actor(name, "id-" + name));
        names.Remember(Actor("c", "id-c2"));
        Assert.Equal(3, names.Count);

        names.Remember(Actor("d", "id-d"));

        Assert.Equal(1, names.Count);
        Assert.Equal("id-d", names.Find("d")?.Id);
        Assert.Null(names.Find("a"));
    }
}
