using System.Globalization;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// The account rules of DESIGN.md §3, through the real node: the shard region answers Rejected with the contract's
/// text, and a client session turns it into a BankException of kind RuleViolation. The state is left as it was.
/// </summary>
public class AccountRuleSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    private const decimal StartingBalance = 100m;
    private const decimal MinimalBalance = 10m;

    [Fact]
    public async Task Shard_region_rejects_opening_below_the_minimal_balance_with_the_contract_text()
    {
        var key = Unique("below");
        var incarnation = Unique("id");

        Accounts.Tell(new AccountRequest(key, incarnation, new OpenAccount(5m, 10m, incarnation)), TestActor);

        var rejected = await ExpectMsgAsync<Rejected>();
        Assert.Equal(ErrorKind.RuleViolation, rejected.Kind);
        Assert.Equal("Starting balance is less than minimal balance", rejected.Message);
    }

    [Theory]
    [InlineData("deposit", "-5", "Cannot deposit negative amount")]
    [InlineData("withdraw", "-5", "Cannot withdraw negative amount")]
    [InlineData("withdraw", "90.01", "Withdrawal is not supported by current balance")]
    public async Task Shard_region_rejects_a_call_breaking_a_rule_with_the_contract_text_and_keeps_the_balance(
        string operation, string amount, string message)
    {
        var (key, incarnation) = await OpenThroughRegionAsync();

        Accounts.Tell(new AccountRequest(key, incarnation, Command(operation, amount)), TestActor);

        var rejected = await ExpectMsgAsync<Rejected>();
        Assert.Equal(ErrorKind.RuleViolation, rejected.Kind);
        Assert.Equal(message, rejected.Message);

        Accounts.Tell(new AccountRequest(key, incarnation, GetBalance.Instance), TestActor);
        Assert.Equal(StartingBalance, (await ExpectMsgAsync<AccountReply>()).Balance);
    }

    [Fact]
    public async Task Session_open_below_the_minimal_balance_throws_RuleViolation_with_the_contract_text()
    {
        await using var session = NewSession();
        var name = Unique("below");

        var error = await Assert.ThrowsAsync<BankException>(() =>
            session.OpenAsync(name, new AccountOptions(Balance: 5m, MinimalBalance: 10m)));

        Assert.Equal(ErrorKind.RuleViolation, error.Kind);
        Assert.Equal("Starting balance is less than minimal balance", error.Message);
        // A refused open registers nothing: the name stays free.
        var notFound = await Assert.ThrowsAsync<BankException>(() => session.GetActorAsync(name));
        Assert.Equal(ErrorKind.ActorNotFound, notFound.Kind);
    }

    [Theory]
    [InlineData("deposit", "-5", "Cannot deposit negative amount")]
    [InlineData("withdraw", "-5", "Cannot withdraw negative amount")]
    [InlineData("withdraw", "90.01", "Withdrawal is not supported by current balance")]
    public async Task Session_call_breaking_a_rule_throws_RuleViolation_with_the_contract_text_and_keeps_the_balance(
        string operation, string amount, string message)
    {
        await using var session = NewSession();
        var account = await session.OpenAsync(Unique("rules"), new AccountOptions(StartingBalance, MinimalBalance));
        var value = decimal.Parse(amount, CultureInfo.InvariantCulture);

        var error = await Assert.ThrowsAsync<BankException>(() => operation == "deposit"
            ? session.DepositAsync(account, value)
            : session.WithdrawAsync(account, value));

        Assert.Equal(ErrorKind.RuleViolation, error.Kind);
        Assert.Equal(message, error.Message);
        Assert.Equal(StartingBalance, await session.BalanceAsync(account));
    }

    [Fact]
    public async Task Session_withdraw_leaving_exactly_the_minimal_balance_is_accepted()
    {
        await using var session = NewSession();
        var account = await session.OpenAsync(Unique("exact"), new AccountOptions(StartingBalance, MinimalBalance));

        Assert.Equal(MinimalBalance, await session.WithdrawAsync(account, StartingBalance - MinimalBalance));
        Assert.Equal(MinimalBalance, await session.BalanceAsync(account));
    }

    private async Task<(string Key, string Incarnation)> OpenThroughRegionAsync()
    {
        var key = Unique("rules");
        var incarnation = Unique("id");
        Accounts.Tell(new AccountRequest(key, incarnation, new OpenAccount(StartingBalance, MinimalBalance, incarnation)), TestActor);
        var opened = await ExpectMsgAsync<AccountReply>();
        Assert.Equal(StartingBalance, opened.Balance);
        return (key, incarnation);
    }

    private static IAccountCommand Command(string operation, string amount)
    {
        var value = decimal.Parse(amount, CultureInfo.InvariantCulture);
        return operation switch
        {
            "deposit" => new Deposit(value),
            "withdraw" => new Withdraw(value),
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "deposit or withdraw"),
        };
    }
}
