using System.Diagnostics;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Client;

/// <summary>How to open an account actor: Ray's <c>Account.options(...).remote(balance, minimal_balance)</c>.</summary>
public sealed record AccountOptions(decimal Balance, decimal MinimalBalance)
{
    /// <summary>The account's key: the same key restores the same state. A new key is made when null.</summary>
    public string? Key { get; init; }

    /// <summary>Detached actors outlive the session that opened them, until killed.</summary>
    public bool Detached { get; init; }

    /// <summary>Return the live actor of that name instead of failing with AlreadyExists.</summary>
    public bool GetIfExists { get; init; }

    /// <summary>Ray's max_restarts: restarts after crashes before the actor is DEAD (MAX_RESTARTS_EXCEEDED); -1 unlimited.</summary>
    public int MaxRestarts { get; init; }

    /// <summary>Ray's max_task_retries: resends of a call that was in flight during a crash; -1 unlimited. Needs restarts.</summary>
    public int MaxTaskRetries { get; init; }

    /// <summary>Ray's num_cpus: CPUs the actor holds while it lives (fractions to 0.0001). Unset: 1 if it asks for anything else.</summary>
    public decimal? NumCpus { get; init; }

    /// <summary>Ray's num_gpus: GPUs the actor holds while it lives (fractions to 0.0001; above 1, whole).</summary>
    public decimal? NumGpus { get; init; }

    /// <summary>Ray's memory: bytes the actor holds while it lives.</summary>
    public decimal? Memory { get; init; }

    /// <summary>The open's own request id (a client id): the same open sent again under it is answered once. A new one when null.</summary>
    public string? RequestId { get; init; }

    /// <summary>Ray's resources: custom resources by name, e.g. accelerator_x = 1.</summary>
    public IReadOnlyDictionary<string, decimal>? CustomResources { get; init; }

    /// <summary>
    /// What the actor holds while it lives (see <see cref="Domain.Placement.Request"/>); empty when it asks for nothing, and then,
    /// as in Ray, it needs a node with 1 CPU to be placed on and holds none while it runs.
    /// </summary>
    public ResourceSet Resources => Domain.Placement.Request(NumCpus, NumGpus, Memory, CustomResources);
}

/// <summary>
/// A client session, like Ray's driver: opens, finds and calls named account actors, by handle (<see cref="ActorInfo"/>)
/// or by name; each call is one round trip to the cluster. Actors it opens without <see cref="AccountOptions.Detached"/>
/// die with it (OWNER_DIED) when it is disposed; a session that opened none costs nothing to end. Every failure is a
/// <see cref="BankException"/> with its <see cref="ErrorKind"/>.
/// </summary>
public sealed partial class BankSession : IAsyncDisposable
{
    private readonly IBankGateway _gateway;
    // Set when the session first opens an actor it owns: until then the registry need not hear of its owner at all.
    private IDisposable? _keepAlive;
    private int _disposed;

    public BankSession(IBankGateway gateway)
    {
        _gateway = gateway;
        Owner = gateway.OwnerFor(Guid.NewGuid().ToString("N"));
    }

    /// <summary>The owner id recorded on the actors this session opens.</summary>
    public string Owner { get; }

    /// <summary>
    /// Ray's <c>Account.options(name=..., num_cpus=..., num_gpus=..., memory=...).remote(balance, minimal)</c>. An actor
    /// that asks for resources starts on a node that has them free; while none has, it is PENDING_CREATION and this waits
    /// up to <c>bank.resources.pending-timeout</c>, then fails (ActorDied, CREATION_FAILED) naming the request and the
    /// largest free capacity.
    /// </summary>
    public async Task<ActorInfo> OpenAsync(string name, AccountOptions options, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        var resources = options.Resources;
        if ((new Supervision(options.MaxRestarts, options.MaxTaskRetries).Validate() ?? Domain.Placement.Validate(resources)) is { } badOptions)
            throw new BankException(ErrorKind.Usage, nameof(ErrorKind.Usage), badOptions);
        var request = new OpenActor(name, options.Key, options.Balance, options.MinimalBalance, options.Detached,
            options.GetIfExists, options.Detached ? null : Owner,
            options.RequestId is { } requestId ? ClientId(requestId, "open request id") : NewRequestId(), options.MaxRestarts, options.MaxTaskRetries,
            resources.ToAmounts());
        if (!options.Detached) KeepOwnerAlive();
        return Expect<ActorInfo>(await RequestAsync(request, cancellationToken));
    }

    /// <summary>Ray's <c>ray.get_actor(name)</c>: the live actor of that name, or ActorNotFound.</summary>
    public async Task<ActorInfo> GetActorAsync(string name, CancellationToken cancellationToken = default) =>
        Expect<ActorInfo>(await RequestAsync(new GetActor(name), cancellationToken));

    public Task<decimal> BalanceAsync(ActorInfo actor, CancellationToken cancellationToken = default) =>
        CallAsync(actor, GetBalance.Instance, cancellationToken);

    /// <summary>The account's state as it answers now: balance, version, and the node it runs on.</summary>
    public Task<AccountReply> StatusAsync(ActorInfo actor, CancellationToken cancellationToken = default) =>
        SendAsync(actor, GetBalance.Instance, cancellationToken);

    public Task<decimal> DepositAsync(ActorInfo actor, decimal amount, CancellationToken cancellationToken = default) =>
        CallAsync(actor, new Deposit(amount, NewRequestId()), cancellationToken);

    public Task<decimal> WithdrawAsync(ActorInfo actor, decimal amount, CancellationToken cancellationToken = default) =>
        CallAsync(actor, new Withdraw(amount, NewRequestId()), cancellationToken);

    /// <summary>A deposit under the caller's own request id: sending it again, however often, applies it once.</summary>
    public Task<decimal> DepositAsync(ActorInfo actor, decimal amount, string requestId, CancellationToken cancellationToken = default) =>
        CallAsync(actor, new Deposit(amount, ClientId(requestId, "request id")), cancellationToken);

    /// <summary>A withdrawal under the caller's own request id: sending it again, however often, applies it once.</summary>
    public Task<decimal> WithdrawAsync(ActorInfo actor, decimal amount, string requestId, CancellationToken cancellationToken = default) =>
        CallAsync(actor, new Withdraw(amount, ClientId(requestId, "request id")), cancellationToken);

    /// <summary>The balance of the account behind <paramref name="name"/>: one round trip, the name is resolved in the cluster.</summary>
    public Task<decimal> BalanceAsync(string name, CancellationToken cancellationToken = default) =>
        CallAsync(name, GetBalance.Instance, cancellationToken);

    /// <summary>A deposit to the account behind <paramref name="name"/>: one round trip, the name is resolved in the cluster.</summary>
    public Task<decimal> DepositAsync(string name, decimal amount, CancellationToken cancellationToken = default) =>
        CallAsync(name, new Deposit(amount, NewRequestId()), cancellationToken);

    /// <summary>A withdrawal from the account behind <paramref name="name"/>: one round trip, the name is resolved in the cluster.</summary>
    public Task<decimal> WithdrawAsync(string name, decimal amount, CancellationToken cancellationToken = default) =>
        CallAsync(name, new Withdraw(amount, NewRequestId()), cancellationToken);

    /// <summary>A deposit by name under the caller's own request id: sending it again, however often, applies it once.</summary>
    public Task<decimal> DepositAsync(string name, decimal amount, string requestId, CancellationToken cancellationToken = default) =>
        CallAsync(name, new Deposit(amount, ClientId(requestId, "request id")), cancellationToken);

    /// <summary>A withdrawal by name under the caller's own request id: sending it again, however often, applies it once.</summary>
    public Task<decimal> WithdrawAsync(string name, decimal amount, string requestId, CancellationToken cancellationToken = default) =>
        CallAsync(name, new Withdraw(amount, ClientId(requestId, "request id")), cancellationToken);

    /// <summary>
    /// A resend of a deposit by name whose id was first sent at <paramref name="firstSent"/> (UTC, e.g. in an earlier
    /// process): applied once, and refused (<c>IdExpired</c>) rather than applied as new if the account may have forgotten it.
    /// </summary>
    public Task<decimal> DepositAsync(string name, decimal amount, string requestId, DateTimeOffset firstSent, CancellationToken cancellationToken = default) =>
        CallAsync(name, new Deposit(amount, ClientId(requestId, "request id"), AgeSince(firstSent)), cancellationToken);

    /// <summary>A resend of a withdrawal by name first sent at <paramref name="firstSent"/> (see the deposit's).</summary>
    public Task<decimal> WithdrawAsync(string name, decimal amount, string requestId, DateTimeOffset firstSent, CancellationToken cancellationToken = default) =>
        CallAsync(name, new Withdraw(amount, ClientId(requestId, "request id"), AgeSince(firstSent)), cancellationToken);

    /// <summary>
    /// How long ago a resent id was first sent, from the wall clock of the caller that says when: the only way an age can
    /// cross processes. A time in the future is a caller's mistake, not a first send.
    /// </summary>
    private static TimeSpan AgeSince(DateTimeOffset firstSent)
    {
        var age = DateTimeOffset.UtcNow - firstSent;
        if (age < -FirstSentSlack)
            throw new BankException(ErrorKind.Usage, "FirstSentInFuture", $"the first send ({firstSent.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}) is in the future");
        // At least a tick: a resend, so the account weighs it against what it may have forgotten.
        return age > TimeSpan.Zero ? age : TimeSpan.FromTicks(1);
    }

    /// <summary>How far ahead of this machine's clock a first send may be (another machine's clock) before it is refused.</summary>
    private static readonly TimeSpan FirstSentSlack = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Moves money between two accounts, exactly once: a saga withdraws from <paramref name="from"/>, deposits to
    /// <paramref name="to"/>, and refunds <paramref name="from"/> if <paramref name="to"/> refuses. Sending the same
    /// <paramref name="transferId"/> again returns the first outcome; a rule violation comes back with its exact text.
    /// </summary>
    public async Task<Transferred> TransferAsync(ActorInfo from, ActorInfo to, decimal amount, string? transferId = null,
        CancellationToken cancellationToken = default)
    {
        var request = new TransferMoney(transferId is null ? NewRequestId() : ClientId(transferId, "transfer id"), Party(from), Party(to), amount);
        return Expect<Transferred>(await RequestAsync(request, cancellationToken));

        static TransferParty Party(ActorInfo actor) => new(actor.Name, actor.Key, actor.Id);
    }

    /// <summary>Fault injection: the named actor throws on its next <paramref name="times"/> calls (needs --allow-fault-injection).</summary>
    public async Task<CrashInjected> CrashAsync(string name, int times = 1, CancellationToken cancellationToken = default) =>
        Expect<CrashInjected>(await RequestAsync(new CrashActor(name, times), cancellationToken));

    /// <summary>Fault injection: the node at HOST:PORT dies at once, like kill -9 (needs --allow-fault-injection).</summary>
    public async Task<NodeKilled> KillNodeAsync(string address, CancellationToken cancellationToken = default) =>
        Expect<NodeKilled>(await RequestAsync(new KillNode(address), cancellationToken));

    /// <summary>Ray's <c>ray.kill(actor)</c>: the actor stops, its name is freed, its journal is kept.</summary>
    public async Task<ActorInfo> KillAsync(string name, CancellationToken cancellationToken = default) =>
        Expect<ActorInfo>(await RequestAsync(new KillActor(name, DeathCauses.Killed, RequestId: NewRequestId()), cancellationToken));

    /// <summary>A kill under the caller's own request id: sent again, it is answered with the first kill's outcome.</summary>
    public async Task<ActorInfo> KillAsync(string name, string requestId, CancellationToken cancellationToken = default) =>
        Expect<ActorInfo>(await RequestAsync(new KillActor(name, DeathCauses.Killed, RequestId: ClientId(requestId, "kill request id")), cancellationToken));

    /// <summary>Ray's <c>exit_actor()</c>: this incarnation ends itself; its death cause is EXITED.</summary>
    public async Task<ActorInfo> ExitAsync(ActorInfo actor, CancellationToken cancellationToken = default) =>
        Expect<ActorInfo>(await RequestAsync(new KillActor(actor.Name, DeathCauses.Exited, actor.Id, NewRequestId()), cancellationToken));

    /// <summary>The journaled events of the account behind the name (the live actor, else the latest dead one), every page of them.</summary>
    public async Task<History> HistoryAsync(string name, CancellationToken cancellationToken = default)
    {
        var page = await HistoryPageAsync(name, cancellationToken: cancellationToken);
        var events = new List<HistoryEntry>(page.Events);
        while (page.Next is { } next)
        {
            page = await HistoryPageAsync(name, next, cancellationToken: cancellationToken);
            events.AddRange(page.Events);
        }

        return page with { Events = events, Next = null };
    }

    /// <summary>One page of the account's events: those after sequence number <paramref name="after"/>, at most <paramref name="limit"/> (0: a full page).</summary>
    public async Task<History> HistoryPageAsync(string name, long after = 0, int limit = 0, CancellationToken cancellationToken = default) =>
        Expect<History>(await RequestAsync(new GetHistory(name, after, limit), cancellationToken));

    /// <summary>Every actor, sorted by name, read a page at a time.</summary>
    public async Task<IReadOnlyList<ActorInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var page = await ListPageAsync(cancellationToken: cancellationToken);
        var actors = new List<ActorInfo>(page.Actors);
        while (page.Next is not null)
        {
            page = await ListPageAsync(page.Next, afterId: page.NextId, cancellationToken: cancellationToken);
            actors.AddRange(page.Actors);
        }

        return actors;
    }

    /// <summary>One page of `bank list`: the actors after the name <paramref name="after"/> (and incarnation <paramref name="afterId"/>).</summary>
    public async Task<ActorList> ListPageAsync(string? after = null, int limit = 0, string? afterId = null, CancellationToken cancellationToken = default) =>
        Expect<ActorList>(await RequestAsync(new ListActors(after, limit, afterId), cancellationToken));

    /// <summary>`bank cluster show`: the members, their status, roles and reachability, leader and oldest.</summary>
    public async Task<ClusterView> ClusterViewAsync(CancellationToken cancellationToken = default) =>
        Expect<ClusterView>(await RequestAsync(GetClusterView.Instance, cancellationToken));

    /// <summary>`bank cluster leave|down ADDRESS`, `bank cluster down-unreachable` (see <see cref="ChangeMembership"/>).</summary>
    public async Task<MembershipChanged> ChangeMembershipAsync(string action, string? address, CancellationToken cancellationToken = default) =>
        Expect<MembershipChanged>(await RequestAsync(new ChangeMembership(action, address), cancellationToken));

    /// <summary>`bank cluster tail`: membership events after <paramref name="after"/> (0: all the node remembers); waits a few seconds for one.</summary>
    public async Task<MembershipEvents> MembershipEventsAsync(long after, CancellationToken cancellationToken = default) =>
        Expect<MembershipEvents>(await RequestAsync(new GetMembershipEvents(after), cancellationToken));

    /// <summary>
    /// The state store's rows of these accounts (all when null), read from the database without waking any account,
    /// and how many journal events the store had yet to take in (its lag) when read.
    /// </summary>
    public async Task<StoredAccounts> StoredAccountsAsync(IReadOnlyList<string>? keys = null, CancellationToken cancellationToken = default) =>
        // A plain array: the ClusterClient envelope's serializer cannot rebuild compiler-made list types.
        Expect<StoredAccounts>(await RequestAsync(new GetStoredAccounts(keys?.ToArray()), cancellationToken));

    /// <summary>How far the state store is, and how many rows each persistence worker wrote.</summary>
    public async Task<StateStoreProgress> StateStoreProgressAsync(CancellationToken cancellationToken = default) =>
        Expect<StateStoreProgress>(await RequestAsync(GetStateStoreProgress.Instance, cancellationToken));

    /// <summary>Fault injection: every persistence worker crashes on its next batch (needs --allow-fault-injection).</summary>
    public async Task<StateStoreProgress> CrashPersistenceWorkersAsync(CancellationToken cancellationToken = default) =>
        Expect<StateStoreProgress>(await RequestAsync(CrashOnNextBatch.Instance, cancellationToken));

    /// <summary>`bank status`: each node's roles, resources (total, used, free) and actor count.</summary>
    public async Task<ClusterStatus> ClusterStatusAsync(CancellationToken cancellationToken = default) =>
        Expect<ClusterStatus>(await RequestAsync(GetClusterStatus.Instance, cancellationToken));

    /// <summary>`bank shards`: every node's shard regions with shard and entity counts, and the entity ids if asked.</summary>
    public async Task<ShardsView> ShardsAsync(string? type = null, bool entities = false, CancellationToken cancellationToken = default)
    {
        var view = await ShardsPageAsync(type, entities, cancellationToken: cancellationToken);
        if (view.Next is null) return view;
        var pages = new List<ShardsView> { view };
        while (view.Next is { } next)
            pages.Add(view = await ShardsPageAsync(type, entities, next, cancellationToken: cancellationToken));
        return Pages.Join(pages);
    }

    /// <summary>One page of `bank shards --entities`: the entity ids after <paramref name="after"/>, at most <paramref name="limit"/> (0: a full page).</summary>
    public async Task<ShardsView> ShardsPageAsync(string? type = null, bool entities = true, string? after = null, int limit = 0,
        CancellationToken cancellationToken = default) =>
        Expect<ShardsView>(await RequestAsync(new GetShards(type, entities, after, limit), cancellationToken));

    /// <summary>`bank actor hierarchy`: a node's actors under <paramref name="path"/>, to <paramref name="depth"/> levels.</summary>
    public async Task<ActorTree> ActorTreeAsync(string path = "/", int depth = 3, string? node = null, CancellationToken cancellationToken = default) =>
        Expect<ActorTree>(await RequestAsync(new GetActorTree(path, depth, node), cancellationToken));

    /// <summary>Ends the session: actors it opened that are not detached die with OWNER_DIED. Free if it opened none.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (Interlocked.Exchange(ref _keepAlive, null) is not { } keepAlive) return;
        keepAlive.Dispose();
        try
        {
            Expect<OwnerReleased>(await _gateway.RequestAsync(new OwnerEnded(Owner)));
        }
        catch (BankException unreachable) when (unreachable.Kind == ErrorKind.ClusterUnreachable)
        {
            // The owner is gone either way: the registry releases this session's actors when it finds the owner dead.
        }
    }

    /// <summary>The owner's heartbeats start before its first actor is opened, and run until the session ends.</summary>
    private void KeepOwnerAlive()
    {
        if (Volatile.Read(ref _keepAlive) is not null) return;
        var keepAlive = _gateway.KeepAlive(Owner);
        // Two first opens at once: one keeper is enough.
        if (Interlocked.CompareExchange(ref _keepAlive, keepAlive, null) is not null) keepAlive.Dispose();
        // Disposed meanwhile: its dispose saw no keeper, so this one stops here.
        else if (Volatile.Read(ref _disposed) == 1 && Interlocked.Exchange(ref _keepAlive, null) is { } late) late.Dispose();
    }

    private async Task<decimal> CallAsync(ActorInfo actor, IAccountCommand command, CancellationToken cancellationToken) =>
        (await SendAsync(actor, command, cancellationToken)).Balance;

    private async Task<AccountReply> SendAsync(ActorInfo actor, IAccountCommand command, CancellationToken cancellationToken)
    {
        var reply = await ResendingAsync(new AccountRequest(actor.Key, actor.Id, command), cancellationToken);
        if (ClientCallPolicy.IsGone(reply))
            throw BankException.From(ClientCallPolicy.Gone(actor.Name, actor.Id, (Rejected)reply));
        return Expect<AccountReply>(reply);
    }

    /// <summary>The gateway resolves the name and says, in the same words as for a handle, when its actor is gone.</summary>
    private async Task<decimal> CallAsync(string name, IAccountCommand command, CancellationToken cancellationToken) =>
        Expect<AccountReply>(await ResendingAsync(new NamedAccountRequest(name, command), cancellationToken)).Balance;

    /// <summary>A request to the cluster's services, resent like an account call (see <see cref="ResendingAsync"/>).</summary>
    private Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken) => ResendingAsync(request, cancellationToken);

    /// <summary>
    /// One operation, resent (same message, same id) on silence and on every "try again" answer until the gateway's
    /// <see cref="IBankGateway.RetryDeadline"/>; the first answer that is not "try again" is returned. The first attempt
    /// costs nothing more than the gateway's call: the resend loop starts only when it fails.
    /// </summary>
    private async Task<object> ResendingAsync(IBankMessage request, CancellationToken cancellationToken)
    {
        var firstSent = Stopwatch.GetTimestamp();
        object? answer = null;
        BankException? silence = null;
        try
        {
            answer = await AttemptAsync(request, cancellationToken);
        }
        catch (BankException unanswered) when (Resender.IsSilence(unanswered))
        {
            silence = unanswered;
        }

        return answer is not null && !RetryPolicy.IsTryAgain(answer)
            ? Resender.Final(request, answer)
            : await new Resender(this, request, firstSent).RunAsync(answer, silence, cancellationToken);
    }

    private Task<object> AttemptAsync(IBankMessage request, CancellationToken cancellationToken) => request switch
    {
        AccountRequest call => _gateway.CallAccountAsync(call, cancellationToken),
        NamedAccountRequest call => _gateway.CallAccountAsync(call, cancellationToken),
        _ => _gateway.RequestAsync(request, cancellationToken),
    };

    /// <summary>Every call gets its own id; a gateway that retries resends the same id, so the call applies once.</summary>
    private static string NewRequestId() => Guid.NewGuid().ToString("N");

    /// <summary>A caller's own id, checked before it leaves (the node checks it again): Usage when it is no valid client id.</summary>
    private static string ClientId(string id, string what) =>
        ClientIds.Validate(id, what) is { } problem ? throw new BankException(ErrorKind.Usage, "BadId", problem) : id;

    private static T Expect<T>(object reply) => reply switch
    {
        T expected => expected,
        Rejected rejected => throw BankException.From(rejected),
        _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}, wanted {typeof(T).Name}"),
    };
}
