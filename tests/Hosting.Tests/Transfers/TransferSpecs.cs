using Akka.Actor;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Bank.Hosting.Transfers;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Transfers between accounts (issue 4, point 4): a saga per transfer withdraws from the source, deposits to the target
/// and refunds the source if the target refuses, journaling its progress. Money moves exactly once, whatever crashes,
/// and a refused transfer says why in the account's own words.
/// </summary>
public class TransferSpecs(FaultInjectionFixture fixture) : BankNodeSpec<FaultInjectionFixture>(fixture)
{
    [Fact]
    public async Task A_transfer_moves_the_amount_and_returns_both_balances()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 100m);
        var to = await OpenAsync(session, "to", 20m);
        var id = Unique("t");

        var transferred = await session.TransferAsync(from, to, 30m, id);

        Assert.Equal(new Transferred(id, from.Name, to.Name, 30m, 70m, 50m), transferred);
        Assert.Equal(70m, await session.BalanceAsync(from));
        Assert.Equal(50m, await session.BalanceAsync(to));
        // Each side journals one call under the step's request id, which is what makes a resent step harmless.
        var withdrawn = Assert.Single(await MovesAsync(session, from.Name));
        Assert.Equal(("withdrawn", 30m, 70m, $"transfer:{id}:withdraw"), (withdrawn.Type, withdrawn.Amount, withdrawn.Balance, withdrawn.RequestId));
        var deposited = Assert.Single(await MovesAsync(session, to.Name));
        Assert.Equal(("deposited", 30m, 50m, $"transfer:{id}:deposit"), (deposited.Type, deposited.Amount, deposited.Balance, deposited.RequestId));
    }

    [Fact]
    public async Task A_transfer_the_source_cannot_afford_fails_with_the_withdrawal_rule_and_moves_nothing()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 50m, minimal: 10m);
        var to = await OpenAsync(session, "to", 20m);

        var error = await Assert.ThrowsAsync<BankException>(() => session.TransferAsync(from, to, 41m, Unique("t")));

        Assert.Equal(ErrorKind.RuleViolation, error.Kind);
        Assert.Equal("Withdrawal is not supported by current balance", error.Message);
        Assert.Equal(50m, await session.BalanceAsync(from));
        Assert.Equal(20m, await session.BalanceAsync(to));
        Assert.Empty(await MovesAsync(session, from.Name));
        // The target is never asked: not even a deposit that a refund later cancels.
        Assert.Equal(["opened"], (await session.HistoryAsync(to.Name)).Events.Select(e => e.Type));
    }

    [Fact]
    public async Task A_transfer_of_a_negative_amount_fails_with_the_withdrawal_rule_and_moves_nothing()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 50m);
        var to = await OpenAsync(session, "to", 20m);

        var error = await Assert.ThrowsAsync<BankException>(() => session.TransferAsync(from, to, -5m, Unique("t")));

        Assert.Equal(ErrorKind.RuleViolation, error.Kind);
        Assert.Equal("Cannot withdraw negative amount", error.Message);
        Assert.Equal(50m, await session.BalanceAsync(from));
        Assert.Equal(20m, await session.BalanceAsync(to));
        Assert.Empty(await MovesAsync(session, from.Name));
        Assert.Empty(await MovesAsync(session, to.Name));
    }

    [Fact]
    public async Task A_transfer_sent_again_with_its_id_moves_the_money_once_and_gets_the_first_outcome()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 100m);
        var to = await OpenAsync(session, "to", 0m);
        var id = Unique("t");

        var first = await session.TransferAsync(from, to, 25m, id);
        // A client that heard nothing sends the same transfer again, after the first one finished.
        var retry = await session.TransferAsync(from, to, 25m, id);

        Assert.Equal(first, retry);
        Assert.Equal(75m, await session.BalanceAsync(from));
        Assert.Equal(25m, await session.BalanceAsync(to));
        Assert.Single(await MovesAsync(session, from.Name));
        Assert.Single(await MovesAsync(session, to.Name));
    }

    [Fact]
    public async Task A_transfer_sent_twice_at_once_with_one_id_moves_the_money_once_and_answers_both_alike()
    {
        await using var session = NewSession();
        await using var other = NewSession();
        var from = await OpenAsync(session, "from", 100m);
        var to = await OpenAsync(session, "to", 0m);
        var id = Unique("t");

        // The retry is in flight before the first answer, as from a client that timed out, or a second client.
        var outcomes = await Task.WhenAll(session.TransferAsync(from, to, 25m, id), other.TransferAsync(from, to, 25m, id));

        Assert.Equal(new Transferred(id, from.Name, to.Name, 25m, 75m, 25m), outcomes[0]);
        Assert.Equal(outcomes[0], outcomes[1]);
        Assert.Equal(75m, await session.BalanceAsync(from));
        Assert.Equal(25m, await session.BalanceAsync(to));
        Assert.Single(await MovesAsync(session, from.Name));
        Assert.Single(await MovesAsync(session, to.Name));
    }

    [Fact]
    public async Task A_refused_transfer_sent_again_with_its_id_is_refused_alike_even_once_the_source_could_pay()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 10m);
        var to = await OpenAsync(session, "to", 0m);
        var id = Unique("t");
        var refused = await Assert.ThrowsAsync<BankException>(() => session.TransferAsync(from, to, 25m, id));
        await session.DepositAsync(from, 100m);

        // The transfer's outcome is settled in its journal: a retry does not try the withdrawal again.
        var retry = await Assert.ThrowsAsync<BankException>(() => session.TransferAsync(from, to, 25m, id));

        Assert.Equal((refused.Kind, refused.Code, refused.Message), (retry.Kind, retry.Code, retry.Message));
        Assert.Equal(110m, await session.BalanceAsync(from));
        Assert.Equal(0m, await session.BalanceAsync(to));
    }

    [Fact]
    public async Task A_transfer_to_an_account_killed_after_it_was_looked_up_fails_and_refunds_the_source()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 100m);
        var to = await OpenAsync(session, "to", 20m);
        var id = Unique("t");
        // The caller holds handles to both; the target dies before the transfer reaches it.
        await session.KillAsync(to.Name);

        var error = await Assert.ThrowsAsync<BankException>(() => session.TransferAsync(from, to, 30m, id));

        Assert.Equal(ErrorKind.ActorDied, error.Kind);
        Assert.Equal(100m, await session.BalanceAsync(from));
        var moves = await MovesAsync(session, from.Name);
        Assert.Equal(
            [("withdrawn", $"transfer:{id}:withdraw"), ("deposited", $"transfer:{id}:refund")],
            moves.Select(e => (e.Type, e.RequestId)));
        // The dead target's journal took nothing.
        Assert.Empty(await MovesAsync(session, to.Name));
    }

    [Fact]
    public async Task A_transfer_whose_source_crashes_while_withdrawing_completes_with_one_withdrawal()
    {
        await using var session = NewSession();
        // Restarts but no task retries: the crashed call is answered ActorDied (TaskFailed), and the saga must retry it.
        var from = await OpenAsync(session, "from", 100m, maxRestarts: -1, maxTaskRetries: 0);
        var to = await OpenAsync(session, "to", 0m);
        var id = Unique("t");
        await session.CrashAsync(from.Name, 1);

        var transferred = await session.TransferAsync(from, to, 40m, id);

        Assert.Equal(new Transferred(id, from.Name, to.Name, 40m, 60m, 40m), transferred);
        Assert.Equal(60m, await session.BalanceAsync(from));
        Assert.Equal(40m, await session.BalanceAsync(to));
        var withdrawn = Assert.Single(await MovesAsync(session, from.Name));
        Assert.Equal($"transfer:{id}:withdraw", withdrawn.RequestId);
        // The crash did happen, after the withdrawal was journaled: the retry found it applied.
        Assert.Contains("restarted", (await session.HistoryAsync(from.Name)).Events.Select(e => e.Type));
    }

    [Fact]
    public async Task A_transfer_whose_target_dies_of_a_crash_after_journaling_the_deposit_completes_without_a_refund()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 100m);
        // No restarts: the crash after the deposit is journaled kills the target, and its answer is lost with it.
        var to = await OpenAsync(session, "to", 5m, maxRestarts: 0);
        var id = Unique("t");
        await session.CrashAsync(to.Name, 1);

        var transferred = await session.TransferAsync(from, to, 30m, id);

        // The saga asked the dead target's journal, which holds the deposit: the transfer is done.
        Assert.Equal(new Transferred(id, from.Name, to.Name, 30m, 70m, 35m), transferred);
        await AwaitAssertAsync(async () =>
        {
            var dead = Assert.Single(await session.ListAsync(), a => a.Id == to.Id);
            Assert.Equal(ActorState.Dead, dead.State);
            Assert.Equal("MAX_RESTARTS_EXCEEDED", dead.DeathCause);
        }, TimeSpan.FromSeconds(10));
        // Money is conserved: what left the source is in the target's journal, once, and nothing came back.
        Assert.Equal(70m, await session.BalanceAsync(from));
        var withdrawn = Assert.Single(await MovesAsync(session, from.Name));
        Assert.Equal($"transfer:{id}:withdraw", withdrawn.RequestId);
        var deposited = Assert.Single(await MovesAsync(session, to.Name));
        Assert.Equal(("deposited", 30m, 35m, $"transfer:{id}:deposit"), (deposited.Type, deposited.Amount, deposited.Balance, deposited.RequestId));
        Assert.Equal("closed:MAX_RESTARTS_EXCEEDED", (await session.HistoryAsync(to.Name)).Events[^1].Type);
    }

    [Fact]
    public async Task A_transfer_resumes_from_its_journal_and_does_not_withdraw_a_second_time()
    {
        await using var session = NewSession();
        var from = await OpenAsync(session, "from", 100m);
        var to = await OpenAsync(session, "to", 10m);
        var id = Unique("t");
        // What a saga on a node that died had journaled: started, and debited (its withdrawal left 60 in the source).
        await WriteSagaJournalAsync(id,
            new TransferStarted(new TransferParty(from.Name, from.Key, from.Id), new TransferParty(to.Name, to.Key, to.Id), 40m),
            new TransferDebited(60m));

        var transferred = await session.TransferAsync(from, to, 40m, id);

        Assert.Equal(new Transferred(id, from.Name, to.Name, 40m, 60m, 50m), transferred);
        // The journal says the withdrawal is done: the source is not asked again (here it never was, so it kept its 100).
        Assert.Equal(100m, await session.BalanceAsync(from));
        Assert.Empty(await MovesAsync(session, from.Name));
        Assert.Equal(50m, await session.BalanceAsync(to));
        var deposited = Assert.Single(await MovesAsync(session, to.Name));
        Assert.Equal($"transfer:{id}:deposit", deposited.RequestId);
    }

    private static Task<ActorInfo> OpenAsync(BankSession session, string prefix, decimal balance, decimal minimal = 0m,
        int maxRestarts = 0, int maxTaskRetries = 0) =>
        session.OpenAsync(Unique(prefix), new AccountOptions(balance, minimal)
        {
            Detached = true,
            MaxRestarts = maxRestarts,
            MaxTaskRetries = maxTaskRetries,
        });

    /// <summary>The deposits and withdrawals in the account's journal (refunds are deposits), oldest first.</summary>
    private static async Task<IReadOnlyList<HistoryEntry>> MovesAsync(BankSession session, string name) =>
        (await session.HistoryAsync(name)).Events.Where(e => e.Type is "deposited" or "withdrawn").ToList();

    /// <summary>Journals <paramref name="events"/> under the saga's persistence id, then stops the writer.</summary>
    private async Task WriteSagaJournalAsync(string transferId, params IBankMessage[] events)
    {
        var writer = Sys.ActorOf(Props.Create(() => new JournalWriter(TransferSaga.PersistenceIdFor(transferId))));
        writer.Tell(new JournalWriter.Write(events), TestActor);
        await ExpectMsgAsync<JournalWriter.Written>();
        await StopAsync(writer);
    }

    /// <summary>Persists what it is given under a persistence id of the test's choosing, in the node's journal.</summary>
    private sealed class JournalWriter : ReceivePersistentActor
    {
        public JournalWriter(string persistenceId)
        {
            PersistenceId = persistenceId;
            Recover<object>(_ => { });
            Command<Write>(write =>
            {
                var replyTo = Sender;
                var left = write.Events.Count;
                PersistAll(write.Events, _ =>
                {
                    if (--left == 0) replyTo.Tell(new Written(LastSequenceNr));
                });
            });
        }

        public override string PersistenceId { get; }

        public sealed record Write(IReadOnlyList<IBankMessage> Events);

        public sealed record Written(long LastSequenceNr);
    }
}
