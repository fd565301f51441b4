namespace Bank.Domain;

/// <summary>
/// Actors (by incarnation id) whose supervisor is restarting them, with the restart count and when it said so. They are
/// shown RESTARTING for a while at most, since a supervisor that stops during its backoff never says it is back. Time is
/// read from a monotonic clock (elapsed since some start), never the wall clock.
/// </summary>
public sealed class RestartBoard
{
    public static readonly TimeSpan ShownFor = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, (int Restarts, TimeSpan At)> _restarting = new(StringComparer.Ordinal);

    public void Restarting(string id, int restarts, TimeSpan now) => _restarting[id] = (restarts, now);

    /// <summary>The actor is back, or dead: no longer restarting.</summary>
    public void Done(string id) => _restarting.Remove(id);

    /// <summary>A live actor as `bank list` shows it: RESTARTING, with the newer count, while its supervisor restarts it.</summary>
    public ActorInfo Show(ActorInfo actor, TimeSpan now) =>
        actor.State == ActorState.Alive && _restarting.TryGetValue(actor.Id, out var restarting) && now - restarting.At < ShownFor
            ? actor with { State = ActorState.Restarting, Restarts = Math.Max(actor.Restarts, restarting.Restarts) }
            : actor;
}
