namespace Bank.Domain.Tests;

/// <summary>Builds account states the way recovery does: by applying accepted events to the empty state.</summary>
internal static class AccountStates
{
    public const string Incarnation = "incarnation-1";

    public static AccountState Opened(decimal balance, decimal minimalBalance = 0m) =>
        AccountState.Empty.Apply(new AccountOpened(balance, minimalBalance, Incarnation));

    public static AccountState Closed(decimal balance, decimal minimalBalance = 0m) =>
        Opened(balance, minimalBalance).Apply(new AccountClosed("stopped", balance));
}
