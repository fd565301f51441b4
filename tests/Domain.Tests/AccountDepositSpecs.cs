using System.Globalization;
using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

public class AccountDepositSpecs
{
    [Fact]
    public void Deposit_adds_the_amount_and_records_the_new_balance()
    {
        var decision = Opened(66m).Decide(new Deposit(33m));

        Assert.Null(decision.Violation);
        Assert.Equal(new Deposited(33m, 99m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Deposit_of_a_fraction_is_exact()
    {
        var decision = Opened(0.1m).Decide(new Deposit(0.2m));

        Assert.Equal(new Deposited(0.2m, 0.3m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Deposit_into_an_overdrawn_account_adds_to_the_negative_balance()
    {
        var decision = Opened(-50m, -100m).Decide(new Deposit(20m));

        Assert.Equal(new Deposited(20m, -30m), Assert.Single(decision.Events));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.01")]
    [InlineData("-9223372036854775808")]
    public void Deposit_of_a_negative_amount_is_rejected_with_the_contract_text(string amount)
    {
        var decision = Opened(99m).Decide(new Deposit(decimal.Parse(amount, CultureInfo.InvariantCulture)));

        Assert.Equal(Rules.NegativeDeposit, decision.Violation);
        Assert.Equal("Cannot deposit negative amount", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_zero_does_nothing_and_is_not_an_error()
    {
        var decision = Opened(99m).Decide(new Deposit(0m));

        Assert.False(decision.IsRejected);
        Assert.Null(decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_zero_with_a_scale_does_nothing()
    {
        var decision = Opened(99m).Decide(new Deposit(0.000m));

        Assert.Null(decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_reaching_exactly_the_limit_is_accepted()
    {
        var decision = Opened(Money.Limit - 1m).Decide(new Deposit(1m));

        Assert.Equal(new Deposited(1m, Money.Limit), Assert.Single(decision.Events));
    }

    [Fact]
    public void Deposit_of_the_limit_into_an_empty_account_is_accepted()
    {
        var decision = Opened(0m).Decide(new Deposit(Money.Limit));

        Assert.Equal(new Deposited(Money.Limit, Money.Limit), Assert.Single(decision.Events));
    }

    [Fact]
    public void Deposit_pushing_the_balance_above_the_limit_is_rejected_without_overflow()
    {
        var state = Opened(Money.Limit);

        var decision = state.Decide(new Deposit(Money.Limit));

        Assert.Equal(Rules.BalanceLimitExceeded, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_the_smallest_amount_onto_a_balance_at_the_limit_is_rejected()
    {
        var decision = Opened(Money.Limit).Decide(new Deposit(0.00000001m));

        Assert.Equal(Rules.BalanceLimitExceeded, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_a_tiny_amount_that_decimal_would_round_away_is_rejected_as_too_precise()
    {
        // 10 + 1e-28 needs 30 significant digits; decimal rounds it back to 10, so the deposit used to vanish.
        var decision = Opened(10m).Decide(new Deposit(0.0000000000000000000000000001m));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Equal("Amount must have at most 8 decimal places", decision.Violation!.Message);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_a_ten_billionth_onto_a_balance_at_the_limit_is_rejected_as_too_precise()
    {
        // 2^63 + 1e-10 rounds back to 2^63, so this deposit used to be accepted without changing the balance.
        var decision = Opened(Money.Limit).Decide(new Deposit(0.0000000001m));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Empty(decision.Events);
    }

    public static TheoryData<decimal, decimal> EightPlaceDeposits => new()
    {
        { 10m, 0.00000001m },
        { 0m, 0.12345678m },
        { -5m, 1.99999999m },
        { Money.Limit - 1m, 0.99999999m },
        { 0.00000001m, Money.Limit - 0.00000001m },
    };

    [Theory]
    [MemberData(nameof(EightPlaceDeposits))]
    public void Deposit_of_an_amount_with_8_decimal_places_is_accepted(decimal balance, decimal amount)
    {
        var decision = Opened(balance, -Money.Limit).Decide(new Deposit(amount));

        Assert.Null(decision.Violation);
        Assert.Equal(new Deposited(amount, balance + amount), Assert.Single(decision.Events));
    }

    public static TheoryData<decimal, decimal> NinePlaceDeposits => new()
    {
        { 10m, 0.000000001m },
        { 0m, 0.123456789m },
        { 10m, 1.000000001m },
        { 0m, Money.Limit - 0.000000001m },
        { Money.Limit, 0.000000001m },
        { 10m, 0.00000000000000000001m },
    };

    [Theory]
    [MemberData(nameof(NinePlaceDeposits))]
    public void Deposit_of_an_amount_with_more_than_8_decimal_places_is_rejected_as_too_precise(decimal balance, decimal amount)
    {
        var decision = Opened(balance).Decide(new Deposit(amount));

        Assert.Equal(Rules.TooPrecise, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_an_amount_whose_extra_decimal_places_are_zeros_is_accepted()
    {
        var decision = Opened(10m).Decide(new Deposit(1.000000000000m));

        Assert.Null(decision.Violation);
        Assert.Equal(new Deposited(1m, 11m), Assert.Single(decision.Events));
    }

    [Fact]
    public void Deposit_of_an_amount_both_beyond_two_to_the_63_and_too_precise_is_rejected_as_out_of_range()
    {
        var decision = Opened(0m).Decide(new Deposit(Money.Limit + 0.000000001m));

        Assert.Equal(Rules.AmountOutOfRange, decision.Violation);
    }

    private static readonly decimal[] SampleBalances =
    [
        -Money.Limit, -Money.Limit + 0.00000001m, -1_000_000_000m, -0.00000001m, 0m, 0.00000001m, 0.1m, 10m,
        123_456_789.12345678m, 1_000_000_000m, 4_611_686_018_427_387_904m, Money.Limit - 1m, Money.Limit - 0.00000001m,
    ];

    private static readonly decimal[] SampleAmounts =
    [
        0.00000001m, 0.00000002m, 0.1m, 0.2m, 0.99999999m, 1m, 1.000000000m, 33m, 98_765.4321m, 1_000_000_000m,
        4_611_686_018_427_387_904.99999999m, Money.Limit - 0.00000001m, Money.Limit,
    ];

    /// <summary>Every pair of a sample balance and a sample amount whose sum stays within 2^63.</summary>
    public static TheoryData<decimal, decimal> ValidDeposits
    {
        get
        {
            var data = new TheoryData<decimal, decimal>();
            foreach (var balance in SampleBalances)
            {
                foreach (var amount in SampleAmounts.Where(a => Money.IsWithinLimit(balance + a)))
                    data.Add(balance, amount);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ValidDeposits))]
    public void Every_accepted_deposit_raises_the_balance_by_exactly_the_amount(decimal balance, decimal amount)
    {
        var state = Opened(balance, -Money.Limit);

        var deposited = Assert.IsType<Deposited>(Assert.Single(state.Decide(new Deposit(amount)).Events));
        var after = state.Apply(deposited);

        Assert.Equal(amount, deposited.Amount);
        Assert.Equal(amount, after.Balance - balance);
        Assert.Equal(balance, after.Balance - amount);
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
    public void Deposit_of_an_amount_beyond_two_to_the_63_is_rejected_as_out_of_range(decimal amount)
    {
        var decision = Opened(Money.Limit).Decide(new Deposit(amount));

        Assert.Equal(Rules.AmountOutOfRange, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_before_the_account_is_opened_is_rejected_as_not_open()
    {
        var decision = AccountState.Empty.Decide(new Deposit(10m));

        Assert.Equal(Rules.NotOpen, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_after_the_account_is_closed_is_rejected_as_closed()
    {
        var decision = Closed(99m).Decide(new Deposit(10m));

        Assert.Equal(Rules.Closed, decision.Violation);
        Assert.Empty(decision.Events);
    }

    [Fact]
    public void Deposit_of_a_negative_amount_into_a_closed_account_reports_the_account_closed_first()
    {
        var decision = Closed(99m).Decide(new Deposit(-1m));

        Assert.Equal(Rules.Closed, decision.Violation);
    }
}
