using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Pools;

/// <summary>
/// The defaults of <see cref="ActorPool{TActor, TResult}"/> (Ray's <c>max_retries</c>, which failures mean a dead actor,
/// when two handles are the same actor) and its convenience for Akka actors: ask each one with the value.
/// </summary>
public static class ActorPool
{
    /// <summary>Ray's default <c>max_retries</c> for a task whose worker died.</summary>
    public const int DefaultMaxRetries = 3;

    /// <summary>Ray's <c>max_retries=-1</c>: retry on the next actor for as long as one is left.</summary>
    public const int UnlimitedRetries = -1;

    /// <summary>Account handles are the same actor when they name the same incarnation, whatever else they say.</summary>
    public static IEqualityComparer<ActorInfo> SameIncarnation { get; } = new IncarnationComparer();

    /// <summary>
    /// The default system failures: a Bank call whose account died (<see cref="BankException"/> with
    /// <see cref="ErrorKind.ActorDied"/>: killed, exited, owner died, out of restarts) and an Akka actor that terminated
    /// before it answered (<see cref="ActorTerminatedException"/>). Everything else, rule violations and ask timeouts
    /// included, is the caller's to handle: a slow actor is not a dead one.
    /// </summary>
    public static bool IsActorDeath(Exception failure) =>
        failure is BankException { Kind: ErrorKind.ActorDied } or ActorTerminatedException;

    /// <summary>
    /// Ray's <c>lambda a, v: a.method.remote(v)</c> for Akka actors: asks the actor with the value and expects a
    /// <typeparamref name="TResult"/> within <paramref name="timeout"/>. It watches the actor meanwhile, so one that
    /// terminates (or was dead already) fails the call at once with <see cref="ActorTerminatedException"/>, which the
    /// pool takes for a dead actor; a reply of <see cref="Status.Failure"/> fails it with that cause, and silence with
    /// Akka's <see cref="AskTimeoutException"/>, which are application errors.
    /// </summary>
    public static Func<IActorRef, TValue, Task<TResult>> Ask<TValue, TResult>(TimeSpan timeout) where TValue : notnull =>
        async (actor, value) =>
        {
            using var finished = new CancellationTokenSource();
            try
            {
                var died = actor.WatchAsync(finished.Token);
                var answer = actor.Ask<TResult>(value, timeout, finished.Token);
                var first = await Task.WhenAny(answer, died).ConfigureAwait(false);
                // A reply that came before the death counts: the actor did the work.
                if (first == died && !answer.IsCompleted && died.IsCompletedSuccessfully && await died.ConfigureAwait(false))
                    throw new ActorTerminatedException(actor);
                return await answer.ConfigureAwait(false);
            }
            finally
            {
                // Ends the death watch, and the ask of an actor that died.
                await finished.CancelAsync().ConfigureAwait(false);
            }
        };

    /// <summary><see cref="ActorPool{TActor, TResult}.Map{TValue}"/> that asks each actor with a value (see <see cref="Ask{TValue, TResult}"/>).</summary>
    public static IAsyncEnumerable<TResult> Map<TValue, TResult>(this ActorPool<IActorRef, TResult> pool,
        IEnumerable<TValue> values, TimeSpan timeout) where TValue : notnull =>
        pool.Map(Ask<TValue, TResult>(timeout), values);

    /// <summary><see cref="ActorPool{TActor, TResult}.MapUnordered{TValue}"/> that asks each actor with a value (see <see cref="Ask{TValue, TResult}"/>).</summary>
    public static IAsyncEnumerable<TResult> MapUnordered<TValue, TResult>(this ActorPool<IActorRef, TResult> pool,
        IEnumerable<TValue> values, TimeSpan timeout) where TValue : notnull =>
        pool.MapUnordered(Ask<TValue, TResult>(timeout), values);

    /// <summary><see cref="ActorPool{TActor, TResult}.Submit{TValue}"/> that asks an actor with the value (see <see cref="Ask{TValue, TResult}"/>).</summary>
    public static void Submit<TValue, TResult>(this ActorPool<IActorRef, TResult> pool, TValue value, TimeSpan timeout)
        where TValue : notnull =>
        pool.Submit(Ask<TValue, TResult>(timeout), value);

    /// <summary>The pool's default comparer: <see cref="SameIncarnation"/> for account handles, else the type's equality.</summary>
    internal static IEqualityComparer<TActor> DefaultComparer<TActor>() =>
        SameIncarnation as IEqualityComparer<TActor> ?? EqualityComparer<TActor>.Default;

    private sealed class IncarnationComparer : IEqualityComparer<ActorInfo>
    {
        public bool Equals(ActorInfo? x, ActorInfo? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.Id == y.Id);

        public int GetHashCode(ActorInfo actor) => StringComparer.Ordinal.GetHashCode(actor.Id);
    }
}
