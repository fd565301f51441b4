using Akka.Actor;

namespace Bank.Hosting.Pools;

/// <summary>
/// An Akka actor asked by <see cref="ActorPool.Ask{TValue, TResult}"/> terminated before it answered: a system failure,
/// for which an <see cref="ActorPool{TActor, TResult}"/> drops the actor and retries the work on another.
/// </summary>
public sealed class ActorTerminatedException(IActorRef actor)
    : Exception($"Actor {actor.Path} terminated before it answered")
{
    public IActorRef Actor { get; } = actor;
}
