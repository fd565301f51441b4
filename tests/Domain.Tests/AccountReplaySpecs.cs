using System.Collections.Immutable;
using Xunit;

namespace Bank.Domain.Tests;

public class AccountReplaySpecs
{
    private static readonly IAccountCommand[] ChapterCommands =
    [
        new OpenAccount(99m, 0m, "incarnation-1"),
        new Withdraw(66m),
        new Deposit(33m),
        new Deposit(33m),
    ];

    private static (AccountState State, List<IAccountEvent> Journal) Run(IEnumerable<IAccountCommand> commands)
    {
        var state = AccountState.Empty;
        var journal = new List<IAccountEvent>();
        foreach (var command in commands)
        {
            var decision = state.Decide(command);
            Assert.Null(decision.Violation);
            foreach (var evt in decision.Events)
            {
                state = state.Apply(evt);
                journal.Add(evt);
            }
        }

        return (state, journal);
    }

    [Fact]
    public void The_chapter_sequence_ends_with_a_balance_of_99()
    {
        var (state, journal) = Run(ChapterCommands);

        Assert.Equal(new AccountState(AccountStatus.Open, 99m, 0m, "incarnation-1"), state);
        Assert.Equal(
            new IAccountEvent[]
            {
                new AccountOpened(99m, 0m, "incarnation-1"),
                new Withdrawn(66m, 33m),
                new Deposited(33m, 66m),
                new Deposited(33m, 99m),
            },
            journal);
        Assert.Equal("99.0", Money.Format(state.Balance));
    }

    [Fact]
    public void Replaying_the_chapter_journal_restores_the_same_state()
    {
        var (live, journal) = Run(ChapterCommands);

        var recovered = AccountState.Empty.ApplyAll(journal);

        Assert.Equal(live, recovered);
        Assert.Equal(99m, recovered.Balance);
    }

    [Fact]
    public void Replaying_no_events_leaves_the_empty_state()
    {
        Assert.Equal(AccountState.Empty, AccountState.Empty.ApplyAll([]));
    }

    [Fact]
    public void Replaying_a_close_and_reopen_restores_the_balance_under_the_new_incarnation()
    {
        IAccountEvent[] journal =
        [
            new AccountOpened(99m, 0m, "incarnation-1"),
            new Withdrawn(66m, 33m),
            new AccountClosed("killed", 33m),
            new AccountReopened("incarnation-2", 33m),
            new Deposited(33m, 66m),
        ];

        var state = AccountState.Empty.ApplyAll(journal);

        Assert.Equal(new AccountState(AccountStatus.Open, 66m, 0m, "incarnation-2"), state);
    }

    [Fact]
    public void A_rejected_decision_leaves_the_state_unchanged()
    {
        var state = AccountState.Empty.ApplyAll([new AccountOpened(33m, 0m, "incarnation-1")]);
        var before = state with { };

        var decision = state.Decide(new Withdraw(66m));
        var after = state.ApplyAll(decision.Events);

        Assert.True(decision.IsRejected);
        Assert.Equal(before, state);
        Assert.Equal(before, after);
        Assert.Equal(33m, after.Balance);
    }

    [Fact]
    public void Applying_an_event_returns_a_new_state_and_leaves_the_original_untouched()
    {
        var original = AccountState.Empty.ApplyAll([new AccountOpened(99m, 0m, "incarnation-1")]);

        var next = original.Apply(new Withdrawn(66m, 33m));

        Assert.NotSame(original, next);
        Assert.Equal(99m, original.Balance);
        Assert.Equal(33m, next.Balance);
    }

    [Fact]
    public void Deciding_does_not_change_the_state()
    {
        var state = AccountState.Empty.ApplyAll([new AccountOpened(99m, 0m, "incarnation-1")]);
        var before = state with { };

        _ = state.Decide(new Deposit(1m));
        _ = state.Decide(new Withdraw(1m));
        _ = state.Decide(new CloseAccount("killed", AccountStates.Incarnation));

        Assert.Equal(before, state);
    }

    [Fact]
    public void The_empty_state_is_new_with_zero_balance_and_no_incarnation()
    {
        Assert.Equal(new AccountState(AccountStatus.New, 0m, 0m, string.Empty), AccountState.Empty);
    }

    // Recovery folds the journal with AccountReplay; it must reach exactly what applying the events one by one reaches.

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>Retentions that forget by count (max 5), by age (no retention: all beyond the floor), and the default.</summary>
    public static TheoryData<int, TimeSpan, int, int> Journals()
    {
        var data = new TheoryData<int, TimeSpan, int, int>();
        foreach (var seed in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            data.Add(seed, Minute * 10, 2, 5);
            data.Add(seed, TimeSpan.Zero, 3, 8);
            data.Add(seed, RequestRetention.Default.Retention, RequestRetention.Default.Floor, RequestRetention.Default.Max);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Journals))]
    public void Replaying_a_journal_reaches_the_state_of_applying_its_events_one_by_one(int seed, TimeSpan retention, int floor, int max)
    {
        var journal = GeneratedJournals.Generate(seed, 600);
        var start = AccountState.Empty.At(Minute) with { Retention = new RequestRetention(retention, floor, max) };

        AssertEquivalent(start.ApplyAll(journal), Replay(start, journal), journal);
    }

    [Theory]
    [MemberData(nameof(Journals))]
    public void Replaying_the_rest_of_a_journal_after_a_snapshot_reaches_the_same_state(int seed, TimeSpan retention, int floor, int max)
    {
        var journal = GeneratedJournals.Generate(seed, 600);
        var snapshot = AccountState.Empty.At(Minute) with { Retention = new RequestRetention(retention, floor, max) };
        snapshot = snapshot.ApplyAll(journal.Take(300));

        AssertEquivalent(snapshot.ApplyAll(journal.Skip(300)), Replay(snapshot, journal.Skip(300)), journal);
    }

    [Fact]
    public void Replaying_after_ids_applied_at_different_times_forgets_the_old_ones_as_the_live_account_would()
    {
        var state = AccountState.Empty with { Retention = new RequestRetention(TimeSpan.FromSeconds(30), 4, 500) };
        var journal = new List<IAccountEvent> { new AccountOpened(0m, 0m, "i") };
        journal.AddRange(Enumerable.Range(1, 300).Select(i => new Deposited(1m, i, $"client:r{i}")));
        // A live account: a deposit a second, so its ids have many ages; then a recovery 215 s in replays the rest.
        for (var i = 0; i <= 200; i++) state = state.At(TimeSpan.FromSeconds(i)).Apply(journal[i]);
        var later = state.At(TimeSpan.FromSeconds(215));

        var oneByOne = later.ApplyAll(journal.Skip(201));
        AssertEquivalent(oneByOne, Replay(later, journal.Skip(201)), journal);
        // Those applied at 186-200 s are younger than the retention; the ones before went beyond the floor.
        Assert.Equal("client:r186", oneByOne.AppliedRequests[0].Id);
        Assert.Equal(15 + 100, oneByOne.AppliedRequests.Count);
    }

    [Theory]
    [MemberData(nameof(Journals))]
    public void A_replayed_account_recovers_as_one_applied_one_by_one_recovers(int seed, TimeSpan retention, int floor, int max)
    {
        var journal = GeneratedJournals.Generate(seed, 600);
        var start = AccountState.Empty with { Retention = new RequestRetention(retention, floor, max) };
        var now = Minute * 30;
        var recoveredWith = new RequestRetention(Minute, floor, max);

        AssertEquivalent(start.ApplyAll(journal).Recovered(now, recoveredWith), Replay(start, journal).Recovered(now, recoveredWith), journal);
    }

    [Fact]
    public void A_replay_past_the_count_bound_notes_that_ids_were_forgotten_and_recovery_dates_it_now()
    {
        var start = AccountState.Empty with { Retention = new RequestRetention(Minute * 10, 1, 3) };
        IAccountEvent[] journal = [new AccountOpened(0m, 0m, "i"), .. Enumerable.Range(1, 4).Select(i => new Deposited(1m, i, $"client:r{i}"))];

        var replayed = Replay(start, journal);
        var recovered = replayed.Recovered(Minute * 5, start.Retention);

        Assert.Equal(TimeSpan.Zero, replayed.DroppedAt);
        Assert.Equal(Minute * 5, recovered.DroppedAt);
        Assert.Equal(["client:r2", "client:r3", "client:r4"], recovered.AppliedRequests.Select(r => r.Id));
        Assert.Null(recovered.Applied("client:r1"));
        AssertEquivalent(start.ApplyAll(journal), replayed, journal);
    }

    [Fact]
    public void A_replayed_transfer_step_is_held_past_the_count_bound_until_its_release()
    {
        var start = AccountState.Empty with { Retention = new RequestRetention(Minute * 10, 0, 1) };
        IAccountEvent[] journal =
        [
            new AccountOpened(10m, 0m, "i"), new Withdrawn(5m, 5m, "transfer:t1:withdraw"), new Deposited(1m, 6m, "client:r1"),
            new Deposited(2m, 8m, "transfer:t2:deposit"), new RequestsReleased(["transfer:t2:deposit"]),
        ];

        var replayed = Replay(start, journal);

        Assert.Equal(["transfer:t1:withdraw"], replayed.HeldRequests.Keys);
        Assert.Equal(5m, replayed.Applied("transfer:t1:withdraw")?.Balance);
        AssertEquivalent(start.ApplyAll(journal), replayed, journal);
    }

    [Fact]
    public void Replaying_an_unknown_event_fails_as_applying_it_does()
    {
        var replay = new AccountReplay(AccountState.Empty);

        Assert.Throws<ArgumentOutOfRangeException>(() => replay.Apply(new UnknownEvent()));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccountState.Empty.Apply(new UnknownEvent()));
    }

    private sealed record UnknownEvent : IAccountEvent;

    private static AccountState Replay(AccountState from, IEnumerable<IAccountEvent> events)
    {
        var replay = new AccountReplay(from);
        foreach (var evt in events) replay.Apply(evt);
        return replay.ToState();
    }

    /// <summary>
    /// The same state field by field (a record compares its immutable collections by reference), and the same answers
    /// about every id of the journal.
    /// </summary>
    private static void AssertEquivalent(AccountState expected, AccountState actual, IEnumerable<IAccountEvent> journal)
    {
        Assert.Equal(WithoutIds(expected), WithoutIds(actual));
        Assert.Equal(expected.AppliedRequests.Select(Describe), actual.AppliedRequests.Select(Describe));
        Assert.Equal(expected.HeldRequests.OrderBy(p => p.Key, StringComparer.Ordinal), actual.HeldRequests.OrderBy(p => p.Key, StringComparer.Ordinal));
        foreach (var id in journal.Select(RequestId).OfType<string>().Distinct())
            Assert.Equal(Describe(expected.Applied(id)), Describe(actual.Applied(id)));
    }

    private static AccountState WithoutIds(AccountState state) =>
        state with { AppliedRequests = [], HeldRequests = ImmutableDictionary<string, decimal>.Empty };

    private static string Describe(AppliedRequest? r) => r is null ? "none" : $"{r.Id}={r.Balance}/{r.Change}@{r.At}";

    private static string? RequestId(IAccountEvent evt) => evt switch
    {
        Deposited d => d.RequestId,
        Withdrawn w => w.RequestId,
        _ => null,
    };
}
