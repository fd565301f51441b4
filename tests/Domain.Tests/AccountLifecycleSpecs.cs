using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

public class AccountLifecycleSpecs
{
    [Fact]
    public void GetBalance_before_the_account_is_opened_is_rejected_as_not_open()
    {
        var decision = AccountState.Empty.Decide(GetBalance.Instance);

        Assert.Equal(Rules.NotOpen, decision.Violation);
        Assert.Equal("Account is not open", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void GetBalance_after_the_account_is_closed_is_rejected_as_closed()
    {
        var decision = Closed(99m).Decide(GetBalance.Instance);

        Assert.Equal(Rules.Closed, decision.Violation);
        Assert.Equal("Account is closed", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void GetBalance_on_an_open_account_records_nothing_and_is_not_an_error()
    {
        var decision = Opened(99m).Decide(GetBalance.Instance);

        Assert.False(decision.IsRejected);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Close_on_an_open_account_records_the_reason_and_the_balance()
    {
        var decision = Opened(99m).Decide(new CloseAccount("killed", Incarnation));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountClosed("killed", 99m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Close_on_a_closed_account_does_nothing()
    {
        var open = Opened(99m);
        var closed = open.ApplyAll(open.Decide(new CloseAccount("killed", Incarnation)).Events);

        var again = closed.Decide(new CloseAccount("killed again", Incarnation));

        Assert.Equal(AccountStatus.Closed, closed.Status);
        Assert.Null(again.Violation);
        Assert.Empty(again.Events);
    }

    [Fact]
    public void Close_before_the_account_is_opened_does_nothing()
    {
        var decision = AccountState.Empty.Decide(new CloseAccount("owner died", Incarnation));

        Assert.Null(decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Closing_keeps_the_balance_minimal_and_incarnation()
    {
        var closed = Opened(99m, -5m).Apply(new AccountClosed("exited", 99m));

        Assert.Equal(new AccountState(AccountStatus.Closed, 99m, -5m, Incarnation), closed);
    }

    [Fact]
    public void An_unknown_command_is_a_programming_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Opened(99m).Decide(new UnknownCommand()));
    }

    [Fact]
    public void An_unknown_event_is_a_programming_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Opened(99m).Apply(new UnknownEvent()));
    }

    private sealed record UnknownCommand : IAccountCommand;

    private sealed record UnknownEvent : IAccountEvent;

    [Fact]
    public void Close_for_an_earlier_incarnation_never_closes_the_current_one()
    {
        var reopened = Opened(99m).Apply(new AccountReopened("incarnation-2", 99m));

        var decision = reopened.Decide(new CloseAccount("killed", Incarnation));

        Assert.Null(decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Only_the_current_open_incarnation_may_call_the_account()
    {
        Assert.Null(Opened(99m).CheckCaller(Incarnation));
        Assert.Equal(Rules.StaleIncarnation, Opened(99m).CheckCaller("incarnation-0"));
        Assert.Equal(Rules.Closed, Closed(99m).CheckCaller(Incarnation));
        Assert.Equal(Rules.NotOpen, AccountState.Empty.CheckCaller(Incarnation));
    }
}
