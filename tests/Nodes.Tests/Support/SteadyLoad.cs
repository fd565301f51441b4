using System.Collections.Concurrent;
using System.Diagnostics;
using Bank.Hosting.Client;

namespace Bank.Nodes.Tests;

/// <summary>
/// Clients that deposit into and withdraw from a few accounts, one call at a time each, every call under a request id of
/// its own, until told to stop. A call that may or may not have been done (OutcomeUnknown, the cluster out of reach) is
/// sent again under the same id until it has a definite answer, as a real client does; every answer is recorded.
/// </summary>
public sealed class SteadyLoad(Stopwatch clock, string run)
{
    /// <summary>A call still without a definite answer this long after it was first sent is given up (and reported).</summary>
    public static readonly TimeSpan ResendLimit = TimeSpan.FromSeconds(90);

    /// <summary>Between one answered call and the next of the same client: a steady rate, not a flood, on two cores.</summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(50);

    private volatile bool _stopping;

    public sealed record Op(string Account, bool Deposit, decimal Amount, string Id);

    /// <summary>What became of one call: acknowledged or not (then <paramref name="Detail"/> says why), when it was first
    /// sent on the run's clock, how long until its definite answer, and after how many sends.</summary>
    public sealed record Outcome(Op Op, bool Acknowledged, string Detail, TimeSpan At, TimeSpan Took, int Sends);

    public ConcurrentQueue<Outcome> Outcomes { get; } = new();

    public Stopwatch Clock { get; } = clock;

    public void Stop() => _stopping = true;

    /// <summary>One client: calls on <paramref name="accounts"/> drawn from <paramref name="seed"/> until <see cref="Stop"/>.</summary>
    public async Task RunAsync(BankSession session, int client, IReadOnlyList<string> accounts, int seed)
    {
        var random = new Random(seed);
        for (var n = 0; !_stopping; n++)
        {
            // Deposits a little larger than withdrawals: a balance drifts up, so no withdrawal is ever refused by a rule.
            var deposit = random.Next(2) == 0;
            // Fixed width, so that no id is the beginning of another (JournalRequestIds).
            var op = new Op(accounts[random.Next(accounts.Count)], deposit, deposit ? random.Next(1, 21) : random.Next(1, 11), $"roll-{run}-{client}-{n:D6}");
            Outcomes.Enqueue(await CallAsync(session, op));
            await Task.Delay(Pace);
        }
    }

    private async Task<Outcome> CallAsync(BankSession session, Op op)
    {
        var at = Clock.Elapsed;
        for (var sends = 1; ; sends++)
        {
            try
            {
                if (op.Deposit) await session.DepositAsync(op.Account, op.Amount, op.Id);
                else await session.WithdrawAsync(op.Account, op.Amount, op.Id);
                return new Outcome(op, true, "ok", at, Clock.Elapsed - at, sends);
            }
            catch (BankException maybe) when (maybe.MayResendSameId && Clock.Elapsed - at < ResendLimit)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
            catch (BankException e)
            {
                return new Outcome(op, false, $"{e.Kind} {e.Code}: {e.Message}", at, Clock.Elapsed - at, sends);
            }
        }
    }
}
