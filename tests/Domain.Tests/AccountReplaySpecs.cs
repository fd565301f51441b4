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
}
