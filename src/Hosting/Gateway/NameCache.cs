using Bank.Domain;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The incarnations that names resolved to at a gateway, so that a call by name usually skips the registry. An entry may
/// be stale (the name was killed or reopened since): its incarnation then answers that it is gone, the entry is dropped
/// and the name looked up again, so a stale entry costs a hop inside the cluster, never a wrong answer. Not thread-safe:
/// one actor owns it.
/// </summary>
public sealed class NameCache(int capacity)
{
    private readonly Dictionary<string, ActorInfo> _actors = new(StringComparer.Ordinal);

    public int Count => _actors.Count;

    public ActorInfo? Find(string name) => _actors.GetValueOrDefault(name);

    public void Remember(ActorInfo actor)
    {
        // Full: start again rather than track use; the names in use come back with their next calls.
        if (_actors.Count >= capacity && !_actors.ContainsKey(actor.Name)) _actors.Clear();
        _actors[actor.Name] = actor;
    }

    /// <summary>Forgets the name if it still stands for incarnation <paramref name="id"/>: a newer one may be remembered since.</summary>
    public void Forget(string name, string id)
    {
        if (_actors.TryGetValue(name, out var known) && known.Id == id) _actors.Remove(name);
    }

    /// <summary>Forgets the name, whatever it stood for (it is being killed).</summary>
    public void Forget(string name) => _actors.Remove(name);
}
