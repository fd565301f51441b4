using System.Runtime.CompilerServices;
using Bank.Hosting.Contracts;
using Bank.Domain;

namespace Bank.Hosting.Pools;

/// <summary>
/// Ray's <c>ray.util.ActorPool(actors)</c>: runs work over a fixed set of actors, one call per actor at a time, and
/// hands the results back in submission order (<see cref="Map{TValue}"/>, <see cref="GetNextAsync"/>) or as they
/// complete (<see cref="MapUnordered{TValue}"/>, <see cref="GetNextUnorderedAsync"/>). Work submitted while every actor
/// is busy waits in a queue and starts, in submission order, as actors free up.
/// </summary>
/// <remarks>
/// <para>
/// The work is <c>fn(actor, value)</c>, Ray's <c>lambda a, v: a.method.remote(v)</c>: with Bank accounts
/// <c>(a, v) =&gt; session.DepositAsync(a, v)</c>, with Akka actors <see cref="ActorPool.Ask{TValue, TResult}"/>.
/// </para>
/// <para>
/// Beyond Ray, a dead actor does not wedge the pool: when a call fails with a system failure (the actor died, see
/// <see cref="ActorPool.IsActorDeath"/>), the actor is dropped from the pool and the work is retried on another one, at
/// most <see cref="MaxRetries"/> times (Ray's <c>max_retries</c>: 3 by default, -1 unlimited). When the retries are used
/// up, or no actor is left, that failure is the work's result. Any other failure is an application error (e.g. an
/// overdraft): it is the work's result at once, never retried, and the actor stays in the pool. A retry goes ahead of
/// the queued work, on the next free actor. As with Ray's retries, delivery is at least once: a call whose actor died
/// after doing the work but before answering (a crash past its restarts, after its events were journaled) is done again
/// on another actor, so work that must not apply twice should be safe to repeat.
/// </para>
/// <para>
/// An actor is free again as soon as its call completes, not when its result is fetched as in Ray, so queued work does
/// not wait for the caller to read earlier results.
/// </para>
/// <para>
/// Like Ray's, a pool is meant for one caller at a time: calls from several threads at once keep the pool consistent
/// (its state is behind a lock, which its own completion callbacks take too) and deliver each result once, but the
/// order between their submissions and fetches is then theirs to arrange. <c>fn</c> and the failure classifier run
/// outside the lock.
/// </para>
/// </remarks>
/// <typeparam name="TActor">The actor handle: an account's <c>ActorInfo</c>, an Akka <c>IActorRef</c>, or any class.</typeparam>
/// <typeparam name="TResult">What a call returns.</typeparam>
public sealed class ActorPool<TActor, TResult> where TActor : class
{
    private readonly Lock _gate = new();
    private readonly Func<Exception, bool> _isSystemFailure;
    private readonly LinkedList<TActor> _idle = new();
    private readonly HashSet<TActor> _busy;
    private readonly LinkedList<Work> _waiting = new();
    private readonly LinkedList<Work> _unfetched = new();

    // The system failure that took the pool's last actor, until a Push: work submitted meanwhile fails with it at once.
    private Exception? _lastActorDied;

    /// <summary>Ray's <c>ActorPool(actors)</c>, with Ray's <c>max_retries</c> for calls to actors that died.</summary>
    /// <param name="actors">The actors; one may appear once only.</param>
    /// <param name="maxRetries">How often a work whose actor died is retried on another: 0 never, -1 without limit.</param>
    /// <param name="isSystemFailure">
    /// Which failures mean the actor is dead (dropped, work retried); default <see cref="ActorPool.IsActorDeath"/>.
    /// </param>
    /// <param name="comparer">
    /// When two handles are the same actor; default <see cref="ActorPool.SameIncarnation"/> for account handles (the same
    /// incarnation id), else the type's own equality.
    /// </param>
    /// <exception cref="ArgumentException">An actor appears twice.</exception>
    public ActorPool(IEnumerable<TActor> actors, int maxRetries = ActorPool.DefaultMaxRetries,
        Func<Exception, bool>? isSystemFailure = null, IEqualityComparer<TActor>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(actors);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRetries, ActorPool.UnlimitedRetries);
        MaxRetries = maxRetries;
        _isSystemFailure = isSystemFailure ?? ActorPool.IsActorDeath;
        _busy = new HashSet<TActor>(comparer ?? ActorPool.DefaultComparer<TActor>());
        var seen = new HashSet<TActor>(_busy.Comparer);
        foreach (var actor in actors)
        {
            ArgumentNullException.ThrowIfNull(actor, nameof(actors));
            if (!seen.Add(actor)) throw AlreadyInPool(actor, nameof(actors));
            _idle.AddLast(actor);
        }
    }

    /// <summary>Ray's <c>max_retries</c>: retries of a work whose actor died; -1 unlimited.</summary>
    public int MaxRetries { get; }

    /// <summary>The actors in the pool now, idle and busy; those dropped as dead or popped are not.</summary>
    public IReadOnlyList<TActor> Actors
    {
        get
        {
            lock (_gate) return [.. _idle, .. _busy];
        }
    }

    /// <summary>
    /// Ray's <c>map(fn, values)</c>: submits <c>fn(actor, value)</c> for every value at once (in the queue while all
    /// actors are busy) and yields the results in the order of <paramref name="values"/>, whatever order they finish in.
    /// A failed work throws when its turn comes; the results after it stay in the pool for <see cref="GetNextAsync"/>.
    /// As in Ray, results submitted earlier and not fetched yet are forgotten first (their work still runs).
    /// </summary>
    public IAsyncEnumerable<TResult> Map<TValue>(Func<TActor, TValue, Task<TResult>> fn, IEnumerable<TValue> values) =>
        InSubmissionOrder(SubmitAll(fn, values));

    /// <summary>
    /// Ray's <c>map_unordered(fn, values)</c>: as <see cref="Map{TValue}"/>, but yields each result as soon as its work
    /// completes.
    /// </summary>
    public IAsyncEnumerable<TResult> MapUnordered<TValue>(Func<TActor, TValue, Task<TResult>> fn, IEnumerable<TValue> values) =>
        InCompletionOrder(SubmitAll(fn, values));

    /// <summary>
    /// Ray's <c>submit(fn, value)</c>: calls <c>fn(actor, value)</c> on an idle actor now, or queues it until one is
    /// free. A pool that has no actor keeps it queued until <see cref="Push"/> adds one, as Ray does; but when its last
    /// actor died, the work fails at once with that actor's failure instead of waiting for a Push that may never come.
    /// </summary>
    public void Submit<TValue>(Func<TActor, TValue, Task<TResult>> fn, TValue value)
    {
        ArgumentNullException.ThrowIfNull(fn);
        Enqueue(fn, value);
    }

    /// <summary>
    /// Ray's <c>get_next(timeout)</c>: the result of the earliest submitted work not fetched yet, once it is done; a failed
    /// work throws its failure. Without a timeout it waits as long as it takes.
    /// </summary>
    /// <exception cref="TimeoutException">
    /// The result did not come within <paramref name="timeout"/> (Ray's TimeoutError). It stays next in line: a later
    /// call still gets it.
    /// </exception>
    /// <exception cref="InvalidOperationException">There is no result to get (Ray's StopIteration).</exception>
    public async Task<TResult> GetNextAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Work head;
            lock (_gate) head = _unfetched.First?.Value ?? throw NoMoreResults();
            await WaitAsync(Task.WhenAny(head.Outcome.Task), timeout, cancellationToken);
            if (Claim(head))
                return await head.Outcome.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ray's <c>get_next_unordered(timeout)</c>: the result of whichever unfetched work completes first (the earliest
    /// submitted among those already done). Unlike Ray, it may be mixed with <see cref="GetNextAsync"/>, which then
    /// goes on with the earliest work still unfetched.
    /// </summary>
    /// <exception cref="TimeoutException">No work completed within <paramref name="timeout"/>; nothing was fetched.</exception>
    /// <exception cref="InvalidOperationException">There is no result to get (Ray's StopIteration).</exception>
    public async Task<TResult> GetNextUnorderedAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task<TResult>[] outcomes;
            lock (_gate)
            {
                if (_unfetched.Count == 0) throw NoMoreResults();
                outcomes = _unfetched.Select(work => work.Outcome.Task).ToArray();
            }
            var done = await WaitAsync(Task.WhenAny(outcomes), timeout, cancellationToken);
            Work? work;
            lock (_gate) work = _unfetched.FirstOrDefault(w => w.Outcome.Task == done);
            if (work is not null && Claim(work))
                return await done.ConfigureAwait(false);
        }
    }

    /// <summary>Ray's <c>has_next()</c>: whether a submitted work's result is still to be fetched (running or queued).</summary>
    public bool HasNext()
    {
        lock (_gate) return _unfetched.Count > 0;
    }

    /// <summary>Ray's <c>has_free()</c>: whether an actor is idle and no work is queued.</summary>
    public bool HasFree()
    {
        lock (_gate) return _idle.Count > 0 && _waiting.Count == 0;
    }

    /// <summary>
    /// Ray's <c>pop_idle()</c>: removes an idle actor from the pool and returns it (the one idle the shortest time, as
    /// Ray's); null when <see cref="HasFree"/> is false.
    /// </summary>
    public TActor? PopIdle()
    {
        lock (_gate)
        {
            if (_idle.Last is not { } last || _waiting.Count > 0) return null;
            _idle.RemoveLast();
            return last.Value;
        }
    }

    /// <summary>Ray's <c>push(actor)</c>: adds an actor to the pool; queued work starts on it at once.</summary>
    /// <exception cref="ArgumentException">The actor is in the pool already, idle or busy (Ray's ValueError).</exception>
    public void Push(TActor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        List<(TActor, Work)> starts;
        lock (_gate)
        {
            if (_busy.Contains(actor) || _idle.Any(idle => _busy.Comparer.Equals(idle, actor)))
                throw AlreadyInPool(actor, nameof(actor));
            _idle.AddLast(actor);
            _lastActorDied = null;
            starts = TakeStarts();
        }
        Start(starts);
    }

    private List<Work> SubmitAll<TValue>(Func<TActor, TValue, Task<TResult>> fn, IEnumerable<TValue> values)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(values);
        lock (_gate)
        {
            // Ray's map starts by dropping every result still unfetched; their work runs on and frees its actor.
            foreach (var work in _unfetched) work.Node = null;
            _unfetched.Clear();
        }
        return values.Select(value => Enqueue(fn, value)).ToList();
    }

    private Work Enqueue<TValue>(Func<TActor, TValue, Task<TResult>> fn, TValue value)
    {
        var work = new Work(actor => fn(actor, value));
        List<(TActor, Work)> starts;
        Exception? noActorLeft;
        lock (_gate)
        {
            work.Node = _unfetched.AddLast(work);
            noActorLeft = _lastActorDied;
            if (noActorLeft is null) _waiting.AddLast(work);
            starts = TakeStarts();
        }
        if (noActorLeft is not null) work.Outcome.TrySetException(noActorLeft);
        Start(starts);
        return work;
    }

    private async IAsyncEnumerable<TResult> InSubmissionOrder(List<Work> works, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var work in works)
        {
            await WaitAsync(Task.WhenAny(work.Outcome.Task), null, cancellationToken);
            Claim(work);
            yield return await work.Outcome.Task.ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<TResult> InCompletionOrder(List<Work> works, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var byOutcome = works.ToDictionary(work => work.Outcome.Task);
        await foreach (var done in Task.WhenEach(byOutcome.Keys).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Claim(byOutcome[done]);
            yield return await done.ConfigureAwait(false);
        }
    }

    /// <summary>Takes a work's result out of the pool; false when another caller took it first.</summary>
    private bool Claim(Work work)
    {
        lock (_gate)
        {
            if (work.Node is not { } node) return false;
            _unfetched.Remove(node);
            work.Node = null;
            return true;
        }
    }

    /// <summary>Pairs queued work with idle actors, longest idle first; the caller starts them outside the lock.</summary>
    private List<(TActor, Work)> TakeStarts()
    {
        var starts = new List<(TActor, Work)>();
        while (_idle.First is { } actor && _waiting.First is { } work)
        {
            _idle.RemoveFirst();
            _waiting.RemoveFirst();
            _busy.Add(actor.Value);
            starts.Add((actor.Value, work.Value));
        }
        return starts;
    }

    private void Start(List<(TActor, Work)> starts)
    {
        foreach (var (actor, work) in starts)
            _ = RunAsync(actor, work);
    }

    private async Task RunAsync(TActor actor, Work work)
    {
        Task<TResult> call;
        try
        {
            call = work.Call(actor) ?? throw new InvalidOperationException("The pool's fn returned no task");
        }
        catch (Exception thrown)
        {
            call = Task.FromException<TResult>(thrown);
        }
        try
        {
            // Always go on from a fresh turn: a call that completes at once must not start the next one on this stack.
            var result = await call.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            Finish(actor, work, () => work.Outcome.TrySetResult(result), failure: null);
        }
        catch (Exception failure)
        {
            Finish(actor, work, () => work.Outcome.TrySetException(failure), failure);
        }
    }

    private void Finish(TActor actor, Work work, Action settle, Exception? failure)
    {
        var died = failure is not null && IsSystemFailure(failure);
        List<(TActor, Work)> starts;
        List<Work> stranded = [];
        var retried = false;
        lock (_gate)
        {
            _busy.Remove(actor);
            if (!died)
                _idle.AddLast(actor);
            else if (_idle.Count + _busy.Count == 0)
            {
                // Nothing is left to run the queued work: it fails now rather than wait for a Push that may never come.
                _lastActorDied = failure;
                stranded.AddRange(_waiting);
                _waiting.Clear();
            }
            else if (MaxRetries == ActorPool.UnlimitedRetries || work.Retries < MaxRetries)
            {
                work.Retries++;
                _waiting.AddFirst(work);
                retried = true;
            }
            starts = TakeStarts();
        }
        if (!retried) settle();
        foreach (var orphan in stranded) orphan.Outcome.TrySetException(failure!);
        Start(starts);
    }

    private bool IsSystemFailure(Exception failure)
    {
        try
        {
            return _isSystemFailure(failure);
        }
        catch (Exception)
        {
            // A classifier that fails cannot prove the actor dead: keep it, and let the failure be the result.
            return false;
        }
    }

    private static async Task<T> WaitAsync<T>(Task<T> task, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await task.WaitAsync(timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for a result after {timeout}: it stays in the pool for a later call");
        }
    }

    private static InvalidOperationException NoMoreResults() =>
        new("No more results to get: every submitted work's result was fetched");

    private static ArgumentException AlreadyInPool(TActor actor, string parameter) =>
        new($"Actor {actor} already belongs to this ActorPool", parameter);

    /// <summary>One submitted value: its call, its outcome, and the retries it has used.</summary>
    private sealed class Work(Func<TActor, Task<TResult>> call)
    {
        public Func<TActor, Task<TResult>> Call { get; } = call;

        public TaskCompletionSource<TResult> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Retries { get; set; }

        /// <summary>Its place among the unfetched results; null once fetched or forgotten.</summary>
        public LinkedListNode<Work>? Node { get; set; }
    }
}
