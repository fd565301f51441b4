using System.Globalization;
using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

public class AccountWithdrawSpecs
{
    [Fact]
    public void Withdraw_subtracts_the_amount_and_records_the_new_balance()
    {
        var decision = Opened(99m).Decide(new Withdraw(66m));

        Assert.Null(decision.Violation);
        Assert.Equal(new Withdrawn(66m, 33m), Assert.Single(decision.Events));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.01")]
    [InlineData("-9223372036854775808")]
    public void Withdraw_of_a_negative_amount_is_rejected_with_the_contract_text(string amount)
    {
        var decision = Opened(99m).Decide(new Withdraw(decimal.Parse(amount, CultureInfo.InvariantCulture)));

        Assert.Equal(Rules.NegativeWithdrawal, decision.Violation);
        Assert.Equal("Cannot withdraw negative amount", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_leaving_the_balance_below_the_minimal_is_rejected_with_the_contract_text()
    {
        var decision = Opened(99m, 10m).Decide(new Withdraw(90m));

        Assert.Equal(Rules.InsufficientBalance, decision.Violation);
        Assert.Equal("Withdrawal is not supported by current balance", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_of_more_than_the_balance_with_zero_minimal_is_rejected()
    {
        var decision = Opened(33m).Decide(new Withdraw(33.01m));

        Assert.Equal(Rules.InsufficientBalance, decision.Violation);
    }

    [Fact]
    public void Withdraw_leaving_exactly_the_minimal_balance_is_accepted()
    {
        var decision = Opened(99m, 10m).Decide(new Withdraw(89m));

        Assert.Null(decision.Violation);
        Assert.Equal(new Withdrawn(89m, 10m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Withdraw_of_the_whole_balance_with_zero_minimal_is_accepted()
    {
        var decision = Opened(99m).Decide(new Withdraw(99m));

        Assert.Equal(new Withdrawn(99m, 0m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Withdraw_into_an_overdraft_down_to_the_negative_minimal_is_accepted()
    {
        var decision = Opened(0m, -100m).Decide(new Withdraw(100m));

        Assert.Equal(new Withdrawn(100m, -100m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Withdraw_beyond_the_overdraft_is_rejected()
    {
        var decision = Opened(0m, -100m).Decide(new Withdraw(100.01m));

        Assert.Equal(Rules.InsufficientBalance, decision.Violation);
    }

    [Fact]
    public void Withdraw_of_zero_does_nothing_and_is_not_an_error()
    {
        var decision = Opened(99m).Decide(new Withdraw(0m));

        Assert.False(decision.IsRejected);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_of_zero_from_an_account_at_its_minimal_does_nothing()
    {
        var decision = Opened(10m, 10m).Decide(new Withdraw(0m));

        Assert.Null(decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_of_the_limit_from_the_full_overdraft_range_is_accepted_without_overflow()
    {
        var decision = Opened(0m, -Money.Limit).Decide(new Withdraw(Money.Limit));

        Assert.Equal(new Withdrawn(Money.Limit, -Money.Limit), Assert.Single(decision.Events));
    }

    [Fact]
    public void Withdraw_of_the_limit_from_a_balance_at_minus_the_limit_is_rejected_without_overflow()
    {
        var decision = Opened(-Money.Limit, -Money.Limit).Decide(new Withdraw(Money.Limit));

        Assert.Equal(Rules.InsufficientBalance, decision.Violation);
    }

    public static TheoryData<decimal> OutOfRangeAmounts => new()
    {
        decimal.MaxValue,
        decimal.MinValue,
        9_223_372_036_854_775_809m,
        -9_223_372_036_854_775_809m,
        Money.Limit + 0.5m,
    };

    [Theory]
    [MemberData(nameof(OutOfRangeAmounts))]
    public void Withdraw_of_an_amount_beyond_two_to_the_63_is_rejected_as_out_of_range(decimal amount)
    {
        var decision = Opened(-Money.Limit, -Money.Limit).Decide(new Withdraw(amount));

        Assert.Equal(Rules.AmountOutOfRange, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_of_a_tiny_amount_that_decimal_would_round_away_is_rejected_as_too_precise()
    {
        // 1e9 - 1e-20 needs 30 significant digits; decimal rounds it back to 1e9, so the withdrawal used to vanish.
        var decision = Opened(1_000_000_000m).Decide(new Withdraw(0.00000000000000000001m));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Equal("Amount must have at most 8 decimal places", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_of_a_tiny_amount_from_an_account_at_its_minimal_is_rejected_as_too_precise()
    {
        // 10 - 1e-28 rounds back to 10, which is not below the minimal of 10, so this used to be accepted.
        var decision = Opened(10m, 10m).Decide(new Withdraw(0.0000000000000000000000000001m));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Empty(decision.Events);
    }

    public static TheoryData<decimal, decimal> EightPlaceWithdrawals => new()
    {
        { 10m, 0.00000001m },
        { 1m, 0.12345678m },
        { 0m, 1.99999999m },
        { Money.Limit, 0.99999999m },
        { Money.Limit, Money.Limit - 0.00000001m },
    };

    [Theory]
    [MemberData(nameof(EightPlaceWithdrawals))]
    public void Withdraw_of_an_amount_with_8_decimal_places_is_accepted(decimal balance, decimal amount)
    {
        var decision = Opened(balance, -Money.Limit).Decide(new Withdraw(amount));

        Assert.Null(decision.Violation);
        Assert.Equal(new Withdrawn(amount, balance - amount), Assert.Single(decision.Events));
    }

    public static TheoryData<decimal, decimal> NinePlaceWithdrawals => new()
    {
        { 10m, 0.000000001m },
        { 1m, 0.123456789m },
        { 10m, 1.000000001m },
        { Money.Limit, Money.Limit - 0.000000001m },
        { -Money.Limit, 0.000000001m },
        { 1_000_000_000m, 0.0000000000000000000000000001m },
    };

    [Theory]
    [MemberData(nameof(NinePlaceWithdrawals))]
    public void Withdraw_of_an_amount_with_more_than_8_decimal_places_is_rejected_as_too_precise(decimal balance, decimal amount)
    {
        var decision = Opened(balance, -Money.Limit).Decide(new Withdraw(amount));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Withdraw_of_an_amount_whose_extra_decimal_places_are_zeros_is_accepted()
    {
        var decision = Opened(10m).Decide(new Withdraw(1.000000000000m));

        Assert.Null(decision.Violation);
        Assert.Equal(new Withdrawn(1m, 9m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Withdraw_of_an_amount_both_beyond_two_to_the_63_and_too_precise_is_rejected_as_out_of_range()
    {
        var decision = Opened(0m, -Money.Limit).Decide(new Withdraw(Money.Limit + 0.000000001m));

        Assert.Equal(Rules.AmountOutOfRange, decision.Violation);
    }

    private static readonly decimal[] SampleBalances =
    [
        -Money.Limit + 0.00000001m, -1_000_000_000m, -0.00000001m, 0m, 0.00000001m, 0.3m, 10m,
        123_456_789.12345678m, 1_000_000_000m, 4_611_686_018_427_387_904m, Money.Limit - 0.00000001m, Money.Limit,
    ];

    private static readonly decimal[] SampleAmounts =
    [
        0.00000001m, 0.00000002m, 0.1m, 0.2m, 0.99999999m, 1m, 1.000000000m, 66m, 98_765.4321m, 1_000_000_000m,
        4_611_686_018_427_387_904.99999999m, Money.Limit - 0.00000001m, Money.Limit,
    ];

    /// <summary>Every pair of a sample balance and a sample amount whose difference stays within -2^63.</summary>
    public static TheoryData<decimal, decimal> ValidWithdrawals
    {
        get
        {
            var data = new TheoryData<decimal, decimal>();
            foreach (var balance in SampleBalances)
            {
                foreach (var amount in SampleAmounts.Where(a => Money.IsWithinLimit(balance - a)))
                    data.Add(balance, amount);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ValidWithdrawals))]
    public void Every_accepted_withdrawal_lowers_the_balance_by_exactly_the_amount(decimal balance, decimal amount)
    {
        var state = Opened(balance, -Money.Limit);

        var withdrawn = Assert.IsType<Withdrawn>(Assert.Single(state.Decide(new Withdraw(amount)).Events));
        var after = state.Apply(withdrawn);

        Assert.Equal(amount, withdrawn.Amount);
        Assert.Equal(amount, balance - after.Balance);
        Assert.Equal(balance, after.Balance + amount);
    }

    [Fact]
    public void Withdraw_before_the_account_is_opened_is_rejected_as_not_open()
    {
        var decision = AccountState.Empty.Decide(new Withdraw(1m));

        Assert.Equal(Rules.NotOpen, decision.Violation);
    }

    [Fact]
    public void Withdraw_after_the_account_is_closed_is_rejected_as_closed()
    {
        var decision = Closed(99m).Decide(new Withdraw(1m));

        Assert.Equal(Rules.Closed, decision.Violation);
        Assert.Empty(decision.Events);
    }
}
