using BenchmarkDotNet.Attributes;
using Bank.Domain;

namespace Bank.Benchmarks;

/// <summary>The pure account rules: what one deposit costs before any actor or journal is involved.</summary>
[MemoryDiagnoser]
public class DomainBenchmarks
{
    private readonly AccountState _open = AccountState.Empty.Apply(new AccountOpened(99m, 20m, "incarnation"));
    private readonly Deposit _deposit = new(33m);
    private readonly Withdraw _overdraw = new(1_000m);
    private readonly IAccountEvent[] _history =
        [new AccountOpened(99m, 20m, "incarnation"), .. Enumerable.Range(0, 99).Select(i => new Deposited(1m, 100m + i))];

    [Benchmark(Description = "Decide + Apply a deposit")]
    public AccountState DepositRoundTrip()
    {
        var decision = _open.Decide(_deposit);
        return _open.Apply(decision.Events[0]);
    }

    [Benchmark(Description = "Decide a rejected withdrawal")]
    public Decision RejectedWithdrawal() => _open.Decide(_overdraw);

    [Benchmark(Description = "Replay 100 events")]
    public AccountState Replay100() => AccountState.Empty.ApplyAll(_history);

    [Benchmark(Description = "Parse an amount typed by a person")]
    public bool ParseAmount() => Money.TryParse("1234.56", out _, out _);
}
