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
    public void Deposit_of_a_billionth_onto_a_balance_at_the_limit_is_rejected()
    {
        var decision = Opened(Money.Limit).Decide(new Deposit(0.000000001m));

        Assert.Equal(Rules.BalanceLimitExceeded, decision.Violation);
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
