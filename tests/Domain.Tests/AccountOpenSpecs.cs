using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

public class AccountOpenSpecs
{
    [Fact]
    public void Open_with_starting_balance_below_minimal_is_rejected_with_the_contract_text()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(9m, 10m, Incarnation));

        Assert.True(decision.IsRejected);
        Assert.Empty(decision.Events);
        Assert.Equal(Rules.StartingBalanceBelowMinimal, decision.Violation);
        Assert.Equal("Starting balance is less than minimal balance", decision.Violation!.Message);
    }

    [Fact]
    public void Open_with_starting_balance_a_fraction_below_minimal_is_rejected()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(9.9999m, 10m, Incarnation));

        Assert.Equal(Rules.StartingBalanceBelowMinimal, decision.Violation);
    }

    [Fact]
    public void Open_with_starting_balance_exactly_the_minimal_balance_is_accepted()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(10m, 10m, Incarnation));

        Assert.False(decision.IsRejected);
        Assert.Equal(new AccountOpened(10m, 10m, Incarnation), Assert.Single(decision.Events));
    }

    [Fact]
    public void Open_as_in_the_chapter_records_balance_minimal_and_incarnation()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(99m, 0m, Incarnation));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountOpened(99m, 0m, Incarnation), Assert.Single(decision.Events));
    }

    public static TheoryData<decimal, decimal> OverdraftOpenings => new()
    {
        { 0m, -100m },
        { -50m, -100m },
        { -100m, -100m },
        { -Money.Limit, -Money.Limit },
    };

    [Theory]
    [MemberData(nameof(OverdraftOpenings))]
    public void Open_with_negative_minimal_balance_allows_an_overdraft_start(decimal balance, decimal minimal)
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(balance, minimal, Incarnation));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountOpened(balance, minimal, Incarnation), Assert.Single(decision.Events));
    }

    [Fact]
    public void Open_below_a_negative_minimal_balance_is_rejected()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(-101m, -100m, Incarnation));

        Assert.Equal(Rules.StartingBalanceBelowMinimal, decision.Violation);
    }

    [Fact]
    public void Open_with_balance_exactly_at_the_limit_is_accepted()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(Money.Limit, 0m, Incarnation));

        Assert.Equal(new AccountOpened(9_223_372_036_854_775_808m, 0m, Incarnation), Assert.Single(decision.Events));
    }

    public static TheoryData<decimal, decimal> OutOfRangeOpenings => new()
    {
        { 9_223_372_036_854_775_809m, 0m },
        { Money.Limit + 0.0001m, 0m },
        { decimal.MaxValue, 0m },
        { 0m, -9_223_372_036_854_775_809m },
        { 0m, decimal.MinValue },
        { -9_223_372_036_854_775_809m, -9_223_372_036_854_775_809m },
        { decimal.MinValue, decimal.MinValue },
        { decimal.MaxValue, decimal.MaxValue },
        { 0m, 9_223_372_036_854_775_809m },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeOpenings))]
    public void Open_with_an_amount_beyond_two_to_the_63_is_rejected_as_out_of_range(decimal balance, decimal minimal)
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(balance, minimal, Incarnation));

        Assert.Equal(Rules.AmountOutOfRange, decision.Violation);
        Assert.Equal(Money.OutOfRangeMessage, decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    public static TheoryData<decimal, decimal> EightPlaceOpenings => new()
    {
        { 0.00000001m, 0m },
        { 10.12345678m, 10.12345678m },
        { 0m, -0.99999999m },
        { Money.Limit - 0.00000001m, -Money.Limit + 0.00000001m },
    };

    [Theory]
    [MemberData(nameof(EightPlaceOpenings))]
    public void Open_with_amounts_of_8_decimal_places_is_accepted(decimal balance, decimal minimal)
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(balance, minimal, Incarnation));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountOpened(balance, minimal, Incarnation), Assert.Single(decision.Events));
    }

    public static TheoryData<decimal, decimal> TooPreciseOpenings => new()
    {
        { 0.000000001m, 0m },
        { 10.123456789m, 0m },
        { 0.0000000000000000000000000001m, 0m },
        { 10m, 0.000000001m },
        { 10m, -9.999999999m },
        { 10m, -Money.Limit + 0.000000001m },
        { 10.000000001m, 10.000000001m },
    };

    [Theory]
    [MemberData(nameof(TooPreciseOpenings))]
    public void Open_with_a_balance_or_minimal_of_more_than_8_decimal_places_is_rejected_as_too_precise(
        decimal balance, decimal minimal)
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(balance, minimal, Incarnation));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Equal("Amount must have at most 8 decimal places", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Open_with_amounts_whose_extra_decimal_places_are_zeros_is_accepted()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(99.000000000m, -1.0000000000000m, Incarnation));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountOpened(99m, -1m, Incarnation), Assert.Single(decision.Events));
    }

    public static TheoryData<decimal, decimal> OutOfRangeAndTooPreciseOpenings => new()
    {
        { Money.Limit + 0.000000001m, 0m },
        { 0m, -Money.Limit - 0.000000001m },
        { Money.Limit + 0.000000001m, Money.Limit + 0.000000001m },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeAndTooPreciseOpenings))]
    public void Open_with_an_amount_both_beyond_two_to_the_63_and_too_precise_is_rejected_as_out_of_range(
        decimal balance, decimal minimal)
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(balance, minimal, Incarnation));

        Assert.Equal(Rules.AmountOutOfRange, decision.Violation);
    }

    [Fact]
    public void Opening_an_open_account_again_with_the_same_incarnation_changes_nothing()
    {
        var state = Opened(99m);

        var decision = state.Decide(new OpenAccount(500m, 0m, Incarnation));

        Assert.Same(Decision.Nothing, decision);
        Assert.Empty(decision.Events);
        Assert.Null(decision.Violation);
    }

    [Fact]
    public void Opening_an_open_account_with_a_new_incarnation_reopens_it_keeping_the_balance()
    {
        var state = Opened(99m);

        var decision = state.Decide(new OpenAccount(500m, 0m, "incarnation-2"));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountReopened("incarnation-2", 99m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Opening_a_closed_account_reopens_it_keeping_the_balance_and_ignoring_the_requested_one()
    {
        var state = Closed(66m);

        var decision = state.Decide(new OpenAccount(1_000m, 0m, "incarnation-2"));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountReopened("incarnation-2", 66m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Opening_a_closed_account_with_its_old_incarnation_still_reopens_it()
    {
        var state = Closed(66m);

        var decision = state.Decide(new OpenAccount(1_000m, 0m, Incarnation));

        Assert.Equal(new AccountReopened(Incarnation, 66m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Reopening_ignores_an_otherwise_invalid_requested_starting_balance()
    {
        var state = Closed(66m);

        var decision = state.Decide(new OpenAccount(decimal.MaxValue, decimal.MaxValue, "incarnation-2"));

        Assert.Null(decision.Violation);
        Assert.Equal(new AccountReopened("incarnation-2", 66m), Assert.Single(decision.Events));
    }

    [Fact]
    public void A_reopened_account_is_open_with_its_old_balance_and_minimal_balance_and_the_new_incarnation()
    {
        var state = Closed(66m, -10m);

        var reopened = state.Apply(new AccountReopened("incarnation-2", 66m));

        Assert.Equal(new AccountState(AccountStatus.Open, 66m, -10m, "incarnation-2"), reopened);
    }

    [Fact]
    public void A_reopened_account_accepts_deposits_again()
    {
        var reopened = Closed(66m).Apply(new AccountReopened("incarnation-2", 66m));

        var decision = reopened.Decide(new Deposit(34m));

        Assert.Equal(new Deposited(34m, 100m), Assert.Single(decision.Events));
    }
}
