namespace Bank.Benchmarks.OrleansPeer;

/// <summary>An account as Orleans' documentation would write it: a virtual grain keyed by name.</summary>
[Alias("bank.peer.account")]
public interface IAccountGrain : IGrainWithStringKey
{
    /// <summary>Adds the amount, stores the state, answers the new balance.</summary>
    [Alias("deposit")]
    Task<decimal> Deposit(decimal amount);

    [Alias("balance")]
    Task<decimal> Balance();
}

/// <summary>The grain's persistent state.</summary>
[GenerateSerializer]
[Alias("bank.peer.account-state")]
public sealed class AccountGrainState
{
    [Id(0)]
    public decimal Balance { get; set; }
}

/// <summary>
/// Persistent state on the grain storage named <see cref="OrleansPeerSilo.StorageName"/>, written after each change
/// before the call answers, as bank's account answers once its event is in the journal.
/// </summary>
public sealed class AccountGrain([PersistentState("account", OrleansPeerSilo.StorageName)] IPersistentState<AccountGrainState> state)
    : Grain, IAccountGrain
{
    public async Task<decimal> Deposit(decimal amount)
    {
        state.State.Balance += amount;
        await state.WriteStateAsync();
        return state.State.Balance;
    }

    public Task<decimal> Balance() => Task.FromResult(state.State.Balance);
}
