using System.Collections.Immutable;

namespace Bank.Domain;

/// <summary>
/// Recovery's fold of an account's events: the state <see cref="AccountState.Apply"/> reaches one event at a time, with
/// the applied and held ids kept in mutable collections while the events come and made immutable once, by
/// <see cref="ToState"/>. Applied one by one, every deposit with an id grew an immutable list and rebuilt its index
/// (about 3 KB an event): 100,000 events took seconds (docs/benchmarks.md, "Recovery").
/// </summary>
public sealed class AccountReplay
{
    // The remembered calls, oldest first. No index: the state builds it from the list, the latest of a repeated id winning.
    private readonly Queue<AppliedRequest> _applied;
    private readonly Dictionary<string, decimal> _held;
    // Everything else; its own applied and held ids stay empty.
    private AccountState _rest;

    /// <summary>A replay that starts from <paramref name="start"/>: the empty state, or a snapshot's.</summary>
    public AccountReplay(AccountState start)
    {
        _applied = new Queue<AppliedRequest>(start.AppliedRequests);
        _held = new Dictionary<string, decimal>(start.HeldRequests, start.HeldRequests.KeyComparer);
        _rest = start with { AppliedRequests = [], HeldRequests = ImmutableDictionary<string, decimal>.Empty };
    }

    /// <summary>Folds in the next event, as <see cref="AccountState.Apply"/> would.</summary>
    public void Apply(IAccountEvent evt)
    {
        switch (evt)
        {
            case Deposited deposited:
                Remember(deposited.RequestId, deposited.Balance, deposited.Amount);
                break;
            case Withdrawn withdrawn:
                Remember(withdrawn.RequestId, withdrawn.Balance, -withdrawn.Amount);
                break;
            case RequestsReleased released:
                foreach (var id in released.RequestIds) _held.Remove(id);
                break;
            case AccountOpened:
                // A new account remembers nothing of a previous one: Apply starts it afresh.
                _applied.Clear();
                _held.Clear();
                _rest = _rest.Apply(evt);
                break;
            case AccountReopened or AccountRestarted or AccountClosed:
                // They leave the ids alone.
                _rest = _rest.Apply(evt);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(evt), evt.GetType().Name, "Unknown account event");
        }
    }

    /// <summary>The state the events so far lead to, its collections made immutable here.</summary>
    public AccountState ToState() => _rest with
    {
        AppliedRequests = ImmutableList.CreateRange(_applied),
        HeldRequests = _held.Count == 0 ? _rest.HeldRequests : _held.ToImmutableDictionary(_held.Comparer),
    };

    /// <summary><see cref="AccountState"/>'s Remember on the mutable collections, by the same eviction rule.</summary>
    private void Remember(string? requestId, decimal balance, decimal change)
    {
        var dropped = _rest.DroppedAt;
        if (requestId is not null)
        {
            var (now, retention) = (_rest.Now, _rest.Retention);
            _applied.Enqueue(new AppliedRequest(requestId, balance, change) { At = now });
            while (retention.Forgets(_applied.Count, _applied.Peek().At, now))
            {
                if (retention.Overflows(_applied.Count)) dropped = now;
                _applied.Dequeue();
            }

            if (requestId.StartsWith(AccountState.HeldPrefix, StringComparison.Ordinal)) _held[requestId] = balance;
        }

        _rest = _rest with { Balance = balance, DroppedAt = dropped };
    }
}
