using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Bank.Domain;

public enum AccountStatus
{
    New,
    Open,
    Closed,
}

/// <summary>
/// The outcome of <see cref="AccountState.Decide"/>: events to persist, or a rule violation, or, for a call already
/// applied, the balance that call left (<see cref="AlreadyApplied"/>) and nothing to persist.
/// </summary>
public sealed record Decision(IReadOnlyList<IAccountEvent> Events, RuleViolation? Violation, decimal? AlreadyApplied = null)
{
    public static readonly Decision Nothing = new([], null);

    public bool IsRejected => Violation is not null;

    public static Decision Accept(IAccountEvent evt) => new([evt], null);

    public static Decision Reject(RuleViolation violation) => new([], violation);

    public static Decision Duplicate(decimal balance) => new([], null, balance);
}

/// <summary>A call the account applied, by the caller's request id, with the balance it left.</summary>
/// <param name="Change">
/// What the call did to the balance: +amount for a deposit or refund, -amount for a withdrawal. A retry under the same id
/// is answered only when it asks the same; null in snapshots written before it was kept (then any retry is answered).
/// </param>
public sealed record AppliedRequest(
    string Id,
    decimal Balance,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? Change = null)
{
    /// <summary>When the account applied it (or recovered it), on the account's monotonic clock; not journaled.</summary>
    [JsonIgnore]
    public TimeSpan At { get; init; }
}

/// <summary>
/// How long and how many applied request ids an account remembers: each for at least <paramref name="Retention"/> (from
/// when it was applied or recovered) and at least the latest <paramref name="Floor"/>, never more than <paramref name="Max"/>.
/// </summary>
public sealed record RequestRetention(TimeSpan Retention, int Floor, int Max)
{
    public static readonly RequestRetention Default = new(TimeSpan.FromMinutes(10), AccountState.RememberedRequests, 10_000);

    /// <summary>
    /// Whether an account remembering <paramref name="count"/> ids, the oldest applied at <paramref name="oldestAt"/>,
    /// forgets that oldest one at <paramref name="now"/>: the one eviction rule of the live path and of replay.
    /// </summary>
    public bool Forgets(int count, TimeSpan oldestAt, TimeSpan now) =>
        Overflows(count) || (count > Floor && now - oldestAt >= Retention);

    /// <summary>Whether <paramref name="count"/> ids are more than the account keeps: the oldest goes however young.</summary>
    public bool Overflows(int count) => count > Max;
}

/// <summary>
/// The account: immutable state with two pure functions. <see cref="Decide"/> applies the rules to a command;
/// <see cref="Apply"/> folds an accepted event into the state.
/// </summary>
public sealed record AccountState(AccountStatus Status, decimal Balance, decimal MinimalBalance, string Incarnation)
{
    /// <summary>How many of the latest request ids an account remembers at least, however old (see <see cref="RequestRetention"/>).</summary>
    public const int RememberedRequests = 256;

    /// <summary>
    /// How many transfer step ids an account holds at most before it refuses new transfer steps (refunds excepted): held
    /// ids are never evicted, since a saga decides from them whether money moved.
    /// </summary>
    public const int MaxHeldRequests = 1024;

    public static readonly AccountState Empty = new(AccountStatus.New, 0m, 0m, string.Empty);

    /// <summary>The latest applied calls, oldest first: a retry of one of them is answered, not applied again.</summary>
    public ImmutableList<AppliedRequest> AppliedRequests
    {
        get;
        init
        {
            field = value;
            _index = null;
        }
    } = [];

    // The remembered calls by id, built when first asked (a snapshot brings only the list) and kept up by Remember.
    private ImmutableDictionary<string, AppliedRequest>? _index;

    /// <summary>How long and how many ids the account remembers; set by its actor from its settings, not journaled.</summary>
    [JsonIgnore]
    public RequestRetention Retention { get; init; } = RequestRetention.Default;

    /// <summary>The account's monotonic time as its actor last told it (<see cref="At"/>): applied ids are stamped with it.</summary>
    [JsonIgnore]
    public TimeSpan Now { get; init; }

    /// <summary>
    /// When the account last forgot ids because of <see cref="RequestRetention.Max"/> (or recovered with as many as that):
    /// an unknown id first sent before then may be one it forgot. Null while it has forgotten none that way.
    /// </summary>
    [JsonIgnore]
    public TimeSpan? DroppedAt { get; init; }

    /// <summary>The state at <paramref name="now"/> (the account's monotonic clock), for what it decides and applies next.</summary>
    public AccountState At(TimeSpan now) => Now == now ? this : this with { Now = now };

    /// <summary>
    /// The state as recovered at <paramref name="now"/>: every remembered id counts as applied now (kept the retention
    /// from here, never shorter), and a full memory counts as having forgotten ids now.
    /// </summary>
    public AccountState Recovered(TimeSpan now, RequestRetention retention) => this with
    {
        Now = now,
        Retention = retention,
        AppliedRequests = [.. AppliedRequests.Select(r => r with { At = now })],
        // Forgotten while replaying (the clock stood still then), or full: either way it may have forgotten ids up to now.
        DroppedAt = AppliedRequests.Count >= retention.Max || DroppedAt is not null ? now : null,
    };

    /// <summary>
    /// Request ids of transfer steps (<c>transfer:…</c>) this account applied, with the balance each left. Unlike
    /// <see cref="AppliedRequests"/> they are kept, however many calls come after, until the transfer releases them:
    /// a saga decides from them whether money moved. Bounded by <see cref="MaxHeldRequests"/> withdrawals and deposits,
    /// plus at most one refund for each held withdrawal.
    /// </summary>
    public ImmutableDictionary<string, decimal> HeldRequests { get; init; } = ImmutableDictionary<string, decimal>.Empty;

    /// <summary>Request ids that start with this are held until released (see <see cref="HeldRequests"/>).</summary>
    public const string HeldPrefix = InternalIds.TransferPrefix;

    /// <summary>Max restarts and max task retries of the current incarnation.</summary>
    public Supervision Supervision { get; init; } = Supervision.Default;

    /// <summary>How often the current incarnation has been restarted after a crash.</summary>
    public int Restarts { get; init; }

    /// <summary>
    /// The resources the current incarnation asked for (see <see cref="Placement"/>); null when it asked for none. An
    /// account that holds resources runs only where it was placed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, decimal>? Resources { get; init; }

    public Decision Decide(IAccountCommand command) => command switch
    {
        OpenAccount open => DecideOpen(open),
        Deposit { RequestId: { } id } deposit when Applied(id) is { } done => Duplicate(done, deposit.Amount),
        Withdraw { RequestId: { } id } withdraw when Applied(id) is { } done => Duplicate(done, -withdraw.Amount),
        Deposit { RequestId: { } id } deposit when Expired(id, deposit.Age) is { } expired => Decision.Reject(expired),
        Withdraw { RequestId: { } id } withdraw when Expired(id, withdraw.Age) is { } expired => Decision.Reject(expired),
        Deposit deposit => DecideDeposit(deposit.Amount, deposit.RequestId),
        Withdraw withdraw => DecideWithdraw(withdraw.Amount, withdraw.RequestId),
        Refund refund => DecideRefund(refund),
        ReleaseRequests release => release.RequestIds.Where(HeldRequests.ContainsKey).Distinct().ToList() is { Count: > 0 } held
            ? Decision.Accept(new RequestsReleased(held))
            : Decision.Nothing,
        FindApplied find => Status == AccountStatus.New ? Decision.Reject(Rules.NotOpen)
            : Applied(find.RequestId) is { } found ? Decision.Duplicate(found.Balance)
            : Decision.Reject(Rules.NotApplied),
        RecordRestarts restarts => Status == AccountStatus.Open && restarts.Restarts > Restarts
            ? Decision.Accept(new AccountRestarted(restarts.Restarts, restarts.Cause))
            : Decision.Nothing,
        GetBalance => RequireOpen() is { } notOpen ? Decision.Reject(notOpen) : Decision.Nothing,
        CloseAccount close => Status == AccountStatus.Open && close.Incarnation == Incarnation
            ? Decision.Accept(new AccountClosed(close.Reason, Balance))
            : Decision.Nothing,
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown account command"),
    };

    public AccountState Apply(IAccountEvent evt) => evt switch
    {
        AccountOpened opened => new AccountState(AccountStatus.Open, opened.Balance, opened.MinimalBalance, opened.Incarnation)
        {
            Supervision = new Supervision(opened.MaxRestarts, opened.MaxTaskRetries),
            Resources = opened.Resources,
            Retention = Retention,
            Now = Now,
            DroppedAt = DroppedAt,
        },
        AccountReopened reopened => this with
        {
            Status = AccountStatus.Open,
            Incarnation = reopened.Incarnation,
            Supervision = new Supervision(reopened.MaxRestarts, reopened.MaxTaskRetries),
            Restarts = 0,
            Resources = reopened.Resources,
        },
        AccountRestarted restarted => this with { Restarts = restarted.Restarts },
        RequestsReleased released => this with { HeldRequests = HeldRequests.RemoveRange(released.RequestIds) },
        Deposited deposited => Remember(deposited.RequestId, deposited.Balance, deposited.Amount),
        Withdrawn withdrawn => Remember(withdrawn.RequestId, withdrawn.Balance, -withdrawn.Amount),
        AccountClosed => this with { Status = AccountStatus.Closed },
        _ => throw new ArgumentOutOfRangeException(nameof(evt), evt.GetType().Name, "Unknown account event"),
    };

    /// <summary>
    /// May a caller holding a handle of <paramref name="incarnation"/> use the account? Only the current, open
    /// incarnation may: a handle from before a kill must not touch the reopened account.
    /// </summary>
    public RuleViolation? CheckCaller(string incarnation) => Status switch
    {
        AccountStatus.New => Rules.NotOpen,
        AccountStatus.Closed => Rules.Closed,
        _ when incarnation != Incarnation => Rules.StaleIncarnation,
        _ => null,
    };

    private Decision DecideOpen(OpenAccount open)
    {
        if (open.Supervision.Validate() is { } badSupervision)
            return Decision.Reject(Rules.InvalidSupervision(badSupervision));
        switch (Status)
        {
            case AccountStatus.Open when open.Incarnation == Incarnation:
                return Decision.Nothing;
            case AccountStatus.Open:
            case AccountStatus.Closed:
                // The key already has a history: the state is restored, the requested starting balance is ignored.
                return Decision.Accept(new AccountReopened(open.Incarnation, Balance, open.MaxRestarts, open.MaxTaskRetries, open.Resources));
        }

        if ((Check(open.Balance) ?? Check(open.MinimalBalance)) is { } invalid)
            return Decision.Reject(invalid);
        if (open.Balance < open.MinimalBalance)
            return Decision.Reject(Rules.StartingBalanceBelowMinimal);
        return Decision.Accept(new AccountOpened(open.Balance, open.MinimalBalance, open.Incarnation, open.MaxRestarts, open.MaxTaskRetries, open.Resources));
    }

    /// <summary>The applied call with that id, if the account still remembers it.</summary>
    public AppliedRequest? Applied(string requestId) =>
        Index().GetValueOrDefault(requestId)
        ?? (HeldRequests.TryGetValue(requestId, out var balance) ? new AppliedRequest(requestId, balance) : null);

    private ImmutableDictionary<string, AppliedRequest> Index()
    {
        if (_index is { } index) return index;
        // Built in one go (a snapshot or a replay brings up to Max ids); the latest of a repeated id wins, as in Remember.
        var builder = ImmutableDictionary.CreateBuilder<string, AppliedRequest>(StringComparer.Ordinal);
        foreach (var applied in AppliedRequests) builder[applied.Id] = applied;
        return _index = builder.ToImmutable();
    }

    /// <summary>
    /// Why an id this account does not remember must not be applied now: first sent <paramref name="age"/> ago, it may
    /// have been applied and forgotten since (older than the retention, or older than the last forgetting by count).
    /// </summary>
    private RuleViolation? Expired(string requestId, TimeSpan age) =>
        age > TimeSpan.Zero && (age >= Retention.Retention || DroppedAt is { } dropped && Now - dropped < age) && Applied(requestId) is null
            ? Rules.IdExpired(requestId, age)
            : null;

    /// <summary>A retry is answered with the balance its first delivery left, but only if it asks what that one did.</summary>
    private Decision Duplicate(AppliedRequest done, decimal change) =>
        RequireOpen() is { } notOpen ? Decision.Reject(notOpen)
        : done.Change is { } earlier && earlier != change ? Decision.Reject(Rules.IdReused(done.Id, Describe(earlier)))
        : Decision.Duplicate(done.Balance);

    private static string Describe(decimal change) =>
        change >= 0m ? $"a deposit of {Money.Format(change)}" : $"a withdrawal of {Money.Format(-change)}";

    /// <summary>
    /// The balance a call left, and its id remembered: the oldest ids go once more than <see cref="RequestRetention.Max"/>
    /// are kept (noted in <see cref="DroppedAt"/>), or beyond the latest <see cref="RequestRetention.Floor"/> once older
    /// than the retention.
    /// </summary>
    private AccountState Remember(string? requestId, decimal balance, decimal change)
    {
        if (requestId is null) return this with { Balance = balance };
        var applied = new AppliedRequest(requestId, balance, change) { At = Now };
        var list = AppliedRequests.Add(applied);
        var index = Index().SetItem(requestId, applied);
        var dropped = DroppedAt;
        while (Retention.Forgets(list.Count, list[0].At, Now))
        {
            if (Retention.Overflows(list.Count)) dropped = Now;
            var oldest = list[0];
            list = list.RemoveAt(0);
            if (ReferenceEquals(index.GetValueOrDefault(oldest.Id), oldest)) index = index.Remove(oldest.Id);
        }

        return this with { Balance = balance, AppliedRequests = list, HeldRequests = Hold(requestId, balance), DroppedAt = dropped, _index = index };
    }

    private ImmutableDictionary<string, decimal> Hold(string? requestId, decimal balance) =>
        requestId is not null && requestId.StartsWith(HeldPrefix, StringComparison.Ordinal) ? HeldRequests.SetItem(requestId, balance) : HeldRequests;

    private Decision DecideDeposit(decimal amount, string? requestId)
    {
        if (RequireOpen() is { } notOpen)
            return Decision.Reject(notOpen);
        if (Check(amount) is { } invalid)
            return Decision.Reject(invalid);
        if (amount < 0m)
            return Decision.Reject(Rules.NegativeDeposit);
        if (amount == 0m)
            return Decision.Nothing;
        if (HoldsTooMany(requestId))
            return Decision.Reject(Rules.TransfersInFlight);
        // Both operands are valid amounts, so the sum is exact and cannot overflow decimal; it may still pass the limit.
        var balance = Balance + amount;
        return Money.IsWithinLimit(balance)
            ? Decision.Accept(new Deposited(amount, balance, requestId))
            : Decision.Reject(Rules.BalanceLimitExceeded);
    }

    /// <summary>A refund is a deposit that any incarnation accepts, open or closed: money owed is never refused.</summary>
    private Decision DecideRefund(Refund refund)
    {
        if (Status == AccountStatus.New)
            return Decision.Reject(Rules.NotOpen);
        if (Applied(refund.RequestId) is { } done)
            return Decision.Duplicate(done.Balance);
        if (Check(refund.Amount) is { } invalid)
            return Decision.Reject(invalid);
        if (refund.Amount < 0m)
            return Decision.Reject(Rules.NegativeDeposit);
        if (refund.Amount == 0m)
            return Decision.Nothing;
        var balance = Balance + refund.Amount;
        return Money.IsWithinLimit(balance)
            ? Decision.Accept(new Deposited(refund.Amount, balance, refund.RequestId))
            : Decision.Reject(Rules.BalanceLimitExceeded);
    }

    private Decision DecideWithdraw(decimal amount, string? requestId)
    {
        if (RequireOpen() is { } notOpen)
            return Decision.Reject(notOpen);
        if (Check(amount) is { } invalid)
            return Decision.Reject(invalid);
        if (amount < 0m)
            return Decision.Reject(Rules.NegativeWithdrawal);
        if (amount == 0m)
            return Decision.Nothing;
        if (HoldsTooMany(requestId))
            return Decision.Reject(Rules.TransfersInFlight);
        var balance = Balance - amount;
        return balance < MinimalBalance
            ? Decision.Reject(Rules.InsufficientBalance)
            : Decision.Accept(new Withdrawn(amount, balance, requestId));
    }

    /// <summary>
    /// A new transfer step beyond the bound is refused before anything moves, so its saga fails cleanly (a refused
    /// withdrawal moves nothing; a refused deposit is refunded, and refunds are never refused).
    /// </summary>
    private bool HoldsTooMany(string? requestId) => InternalIds.IsTransferStep(requestId) && HeldRequests.Count >= MaxHeldRequests;

    private static RuleViolation? Check(decimal amount) =>
        !Money.IsWithinLimit(amount) ? Rules.AmountOutOfRange
        : !Money.HasSupportedPrecision(amount) ? Rules.TooPrecise
        : null;

    private RuleViolation? RequireOpen() => Status switch
    {
        AccountStatus.Open => null,
        AccountStatus.Closed => Rules.Closed,
        _ => Rules.NotOpen,
    };

    /// <summary>Applies a sequence of events one by one; recovery folds them with <see cref="AccountReplay"/> to the same state.</summary>
    public AccountState ApplyAll(IEnumerable<IAccountEvent> events) => events.Aggregate(this, (state, e) => state.Apply(e));
}
