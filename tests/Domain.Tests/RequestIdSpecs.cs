using Bank.Domain;
using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

/// <summary>A call retried with its request id is answered, never applied twice.</summary>
public sealed class RequestIdSpecs
{
    [Fact]
    public void A_repeated_deposit_is_answered_with_the_balance_of_its_first_delivery_and_persists_nothing()
    {
        var first = Opened(10m).Decide(new Deposit(5m, "req-1"));
        var later = Opened(10m).ApplyAll(first.Events).Apply(new Deposited(1m, 16m, "req-2"));

        var again = later.Decide(new Deposit(5m, "req-1"));

        Assert.Empty(again.Events);
        Assert.Null(again.Violation);
        Assert.Equal(15m, again.AlreadyApplied);
    }

    [Fact]
    public void A_repeated_withdrawal_is_not_applied_again()
    {
        var state = Opened(10m).Apply(new Withdrawn(4m, 6m, "req-1"));

        var again = state.Decide(new Withdraw(4m, "req-1"));

        Assert.Empty(again.Events);
        Assert.Equal(6m, again.AlreadyApplied);
    }

    [Fact]
    public void Calls_without_a_request_id_are_each_applied()
    {
        var state = Opened(10m).Apply(new Deposited(5m, 15m));

        var again = state.Decide(new Deposit(5m));

        Assert.Equal(new Deposited(5m, 20m), Assert.Single(again.Events));
    }

    [Fact]
    public void The_request_id_is_journaled_with_the_event()
    {
        var decision = Opened(10m).Decide(new Deposit(5m, "req-1"));

        Assert.Equal(new Deposited(5m, 15m, "req-1"), Assert.Single(decision.Events));
    }

    [Fact]
    public void Only_the_latest_request_ids_are_remembered_once_the_older_ones_are_past_the_retention()
    {
        var state = Opened(0m);
        for (var i = 0; i < AccountState.RememberedRequests; i++)
            state = state.Apply(new Deposited(1m, state.Balance + 1m, $"req-{i}"));

        state = state.At(RequestRetention.Default.Retention).Apply(new Deposited(1m, state.Balance + 1m, $"req-{AccountState.RememberedRequests}"));

        Assert.Equal(AccountState.RememberedRequests, state.AppliedRequests.Count);
        Assert.Null(state.Applied("req-0"));
        Assert.NotNull(state.Applied($"req-{AccountState.RememberedRequests}"));
    }

    [Fact]
    public void A_repeat_to_a_closed_account_is_refused_as_closed()
    {
        var state = Opened(10m).Apply(new Deposited(5m, 15m, "req-1")).Apply(new AccountClosed("KILLED", 15m));

        Assert.Equal(Rules.Closed, state.Decide(new Deposit(5m, "req-1")).Violation);
    }
}
