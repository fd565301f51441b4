using System.Collections.Concurrent;
using Bank.Domain;
using Bank.Hosting.Accounts;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests.Client;

/// <summary>
/// Exactly once from the caller's side: a session resends the SAME id on every "try again" answer and on silence until
/// its retry deadline, then tells whether the operation was certainly not done (ClusterUnreachable) or may have been
/// (OutcomeUnknown, with the id to resend); and an account refuses an id it may have forgotten (IdExpired).
/// </summary>
public sealed class ResendSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    private static Rejected Refusal(string code) => new(ErrorKind.ClusterUnreachable, code, $"{code}; try again");

    private async Task<(BankSession Session, ActorInfo Actor)> OpenAsync()
    {
        var session = NewSession();
        return (session, await session.OpenAsync(Unique("resend"), new AccountOptions(10m, 0m) { Detached = true }));
    }

    private async Task<IReadOnlyList<HistoryEntry>> DepositsAsync(BankSession session, string name, string requestId) =>
        [.. (await session.HistoryAsync(name)).Events.Where(e => e.Type == "deposited" && e.RequestId == requestId)];

    [Theory]
    [InlineData("JournalUnavailable")]
    [InlineData("Moving")]
    public async Task Try_again_answers_are_resent_under_the_same_id_and_the_deposit_is_applied_once(string code)
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;
        var gateway = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(20), Fault.Refuse(code), Fault.Refuse(code));
        await using var faulty = new BankSession(gateway);

        var balance = await faulty.DepositAsync(actor.Name, 5m, "try-again-" + code);

        Assert.Equal(15m, balance);
        Assert.Equal(3, gateway.Calls.Count);
        Assert.All(gateway.Calls, c => Assert.Equal("try-again-" + code, IdOf(c)));
        Assert.Single(await DepositsAsync(session, actor.Name, "try-again-" + code));
        Assert.Equal(15m, await session.BalanceAsync(actor.Name));
    }

    [Fact]
    public async Task A_deposit_whose_answer_was_lost_is_resent_and_answered_with_its_first_outcome_applied_once()
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;
        var gateway = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(20), Fault.DropReply);
        await using var faulty = new BankSession(gateway);

        var balance = await faulty.DepositAsync(actor.Name, 5m);

        Assert.Equal(15m, balance);
        Assert.Equal(2, gateway.Calls.Count);
        Assert.Equal(IdOf(gateway.Calls[0]), IdOf(gateway.Calls[1]));
        // The resend tells the account how long ago its id was first sent.
        Assert.True(AgeOf(gateway.Calls[1]) > TimeSpan.Zero);
        Assert.Equal(15m, await session.BalanceAsync(actor.Name));
    }

    [Fact]
    public async Task At_the_deadline_after_a_maybe_done_answer_the_outcome_is_unknown_and_resending_the_id_later_applies_once()
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;
        var gateway = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(1), Fault.DropReply) { Otherwise = Fault.Refuse("Moving") };
        await using var faulty = new BankSession(gateway);

        var unknown = await Assert.ThrowsAsync<BankException>(() => faulty.DepositAsync(actor.Name, 5m, "maybe-done"));

        Assert.Equal(ErrorKind.OutcomeUnknown, unknown.Kind);
        Assert.Equal("maybe-done", unknown.RequestId);
        Assert.Contains("--id maybe-done", unknown.Message);
        Assert.Equal(15m, await session.DepositAsync(actor.Name, 5m, "maybe-done"));
        Assert.Single(await DepositsAsync(session, actor.Name, "maybe-done"));
    }

    [Fact]
    public async Task An_outcome_unknown_deposit_says_when_its_id_was_first_sent_and_a_resend_from_then_is_aged_from_then()
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;
        var gateway = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(1), Fault.DropReply) { Otherwise = Fault.Refuse("Moving") };
        await using var faulty = new BankSession(gateway);
        var before = DateTimeOffset.UtcNow;

        var unknown = await Assert.ThrowsAsync<BankException>(() => faulty.DepositAsync(actor.Name, 5m, "when-sent"));

        // Printed to the second, rounded down: a resend from it is never younger than the first send was.
        var firstSent = Assert.IsType<DateTimeOffset>(unknown.FirstSent);
        Assert.InRange(firstSent, before.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.Equal(0, firstSent.UtcTicks % TimeSpan.TicksPerSecond);
        Assert.Contains($"--first-sent {firstSent.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}", unknown.Message);

        var later = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(20), Fault.DropReply);
        await using var resending = new BankSession(later);
        Assert.Equal(15m, await resending.DepositAsync(actor.Name, 5m, "when-sent", firstSent.AddMinutes(-3)));
        // Every attempt of the resend carries the age since the first send, the retry's own resends included.
        Assert.All(later.Calls, c => Assert.True(AgeOf(c) >= TimeSpan.FromMinutes(3)));
        Assert.Equal(2, later.Calls.Count);
        Assert.Single(await DepositsAsync(session, actor.Name, "when-sent"));
    }

    [Fact]
    public async Task A_resend_first_sent_longer_ago_than_the_retention_of_an_id_the_account_does_not_remember_is_refused_not_applied()
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;

        var refused = await Assert.ThrowsAsync<BankException>(() =>
            session.DepositAsync(actor.Name, 5m, "forgotten", DateTimeOffset.UtcNow - RequestRetention.Default.Retention - TimeSpan.FromMinutes(1)));

        Assert.Equal((ErrorKind.OutcomeUnknown, "IdExpired"), (refused.Kind, refused.Code));
        Assert.False(refused.MayResendSameId);
        Assert.Equal(10m, await session.BalanceAsync(actor.Name));
        // One it remembers is answered as the duplicate it is, however old the caller says it is.
        Assert.Equal(15m, await session.DepositAsync(actor.Name, 5m, "remembered"));
        Assert.Equal(15m, await session.DepositAsync(actor.Name, 5m, "remembered", DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Single(await DepositsAsync(session, actor.Name, "remembered"));
    }

    [Fact]
    public async Task A_first_send_said_to_be_in_the_future_is_refused_before_it_is_sent()
    {
        await using var session = NewSession();

        var refused = await Assert.ThrowsAsync<BankException>(() => session.WithdrawAsync("anyone", 1m, "future", DateTimeOffset.UtcNow.AddHours(1)));

        Assert.Equal(ErrorKind.Usage, refused.Kind);
    }

    [Fact]
    public async Task At_the_deadline_after_only_certainly_not_done_answers_the_cluster_is_unreachable_and_nothing_was_applied()
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;
        var gateway = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(1)) { Otherwise = Fault.Refuse("JournalUnavailable") };
        await using var faulty = new BankSession(gateway);

        var unreachable = await Assert.ThrowsAsync<BankException>(() => faulty.DepositAsync(actor.Name, 5m, "not-done"));

        Assert.Equal(ErrorKind.ClusterUnreachable, unreachable.Kind);
        Assert.Equal("JournalUnavailable", unreachable.Code);
        Assert.True(gateway.Calls.Count > 2);
        Assert.Empty(await DepositsAsync(session, actor.Name, "not-done"));
        Assert.Equal(10m, await session.BalanceAsync(actor.Name));
    }

    [Fact]
    public async Task A_read_that_never_gets_an_answer_ends_as_cluster_unreachable()
    {
        var (session, actor) = await OpenAsync();
        await using var _ = session;
        var gateway = new ScriptedGateway(NewGateway(), TimeSpan.FromSeconds(1)) { Otherwise = Fault.DropReply };
        await using var faulty = new BankSession(gateway);

        var unreachable = await Assert.ThrowsAsync<BankException>(() => faulty.BalanceAsync(actor.Name));

        Assert.Equal(ErrorKind.ClusterUnreachable, unreachable.Kind);
        Assert.Null(unreachable.RequestId);
    }

    [Fact]
    public async Task An_id_the_account_forgot_after_its_retention_is_refused_as_expired_and_the_balance_is_unchanged()
    {
        var key = Unique("short-retention");
        var incarnation = Unique("id");
        var account = Sys.ActorOf(AccountActor.PropsFor(key,
            AccountSettings.From(Sys) with { Retention = new RequestRetention(TimeSpan.FromSeconds(2), 0, 100) }));
        await CallAsync(account, key, incarnation, new OpenAccount(10m, 0m, incarnation));
        var firstSent = System.Diagnostics.Stopwatch.GetTimestamp();
        await CallAsync(account, key, incarnation, new Deposit(5m, "client:old"));

        // Forgotten once the retention has passed and the account applies another call.
        await AwaitAssertAsync(async () =>
        {
            await CallAsync(account, key, incarnation, new Deposit(0.01m, "client:" + Guid.NewGuid().ToString("N")));
            account.Tell(new AccountRequest(key, incarnation, new FindApplied("client:old")), TestActor);
            Assert.Equal(Rules.NotApplied.Code, (await ExpectMsgAsync<Rejected>()).Code);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(300));
        var before = (await CallAsync(account, key, incarnation, GetBalance.Instance)).Balance;

        account.Tell(new AccountRequest(key, incarnation, new Deposit(5m, "client:old", System.Diagnostics.Stopwatch.GetElapsedTime(firstSent))), TestActor);

        var refused = await ExpectMsgAsync<Rejected>();
        Assert.Equal((ErrorKind.OutcomeUnknown, "IdExpired"), (refused.Kind, refused.Code));
        Assert.Equal(before, (await CallAsync(account, key, incarnation, GetBalance.Instance)).Balance);
    }

    [Fact]
    public async Task Past_the_count_bound_an_id_first_sent_before_the_account_forgot_ids_is_refused_and_the_balance_is_unchanged()
    {
        var key = Unique("few-ids");
        var incarnation = Unique("id");
        var account = Sys.ActorOf(AccountActor.PropsFor(key,
            AccountSettings.From(Sys) with { Retention = new RequestRetention(TimeSpan.FromMinutes(10), 0, 3) }));
        await CallAsync(account, key, incarnation, new OpenAccount(10m, 0m, incarnation));
        var firstSent = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 1; i <= 4; i++) await CallAsync(account, key, incarnation, new Deposit(1m, $"client:r{i}"));

        account.Tell(new AccountRequest(key, incarnation, new Deposit(1m, "client:r1", System.Diagnostics.Stopwatch.GetElapsedTime(firstSent) + TimeSpan.FromMilliseconds(1))), TestActor);

        var refused = await ExpectMsgAsync<Rejected>();
        Assert.Equal((ErrorKind.OutcomeUnknown, "IdExpired"), (refused.Kind, refused.Code));
        Assert.Equal(14m, (await CallAsync(account, key, incarnation, GetBalance.Instance)).Balance);
    }

    private static string? IdOf(object call) => ClientIds.Unscope(RetryPolicy.IdOf(call));

    private static TimeSpan AgeOf(object call) => call switch
    {
        NamedAccountRequest { Command: Deposit deposit } => deposit.Age,
        AccountRequest { Command: Deposit deposit } => deposit.Age,
        _ => TimeSpan.Zero,
    };

    /// <summary>What the scripted gateway does with one account call.</summary>
    private sealed record Fault(string Kind, string? Code = null)
    {
        public static readonly Fault Pass = new("pass");

        /// <summary>The call reaches the account, and its answer is lost: the session hears silence.</summary>
        public static readonly Fault DropReply = new("drop-reply");

        public static Fault Refuse(string code) => new("refuse", code);
    }

    /// <summary>
    /// Account calls meet the scripted faults in order, then <see cref="Otherwise"/>; every call is recorded as sent.
    /// Everything else passes straight on.
    /// </summary>
    private sealed class ScriptedGateway(IBankGateway inner, TimeSpan deadline, params Fault[] faults) : IBankGateway
    {
        private readonly ConcurrentQueue<Fault> _faults = new(faults);
        private readonly ConcurrentQueue<object> _calls = new();

        public Fault Otherwise { get; init; } = Fault.Pass;

        public IReadOnlyList<object> Calls => [.. _calls];

        public TimeSpan RetryDeadline => deadline;

        public string OwnerFor(string session) => inner.OwnerFor(session);

        public IDisposable KeepAlive(string owner) => inner.KeepAlive(owner);

        public Task<object> RequestAsync(IBankMessage request, CancellationToken cancellationToken = default) =>
            inner.RequestAsync(request, cancellationToken);

        public Task<object> CallAccountAsync(AccountRequest request, CancellationToken cancellationToken = default) =>
            Scripted(request, () => inner.CallAccountAsync(request, cancellationToken));

        public Task<object> CallAccountAsync(NamedAccountRequest request, CancellationToken cancellationToken = default) =>
            Scripted(request, () => inner.CallAccountAsync(request, cancellationToken));

        private async Task<object> Scripted(object call, Func<Task<object>> send)
        {
            _calls.Enqueue(call);
            var fault = _faults.TryDequeue(out var next) ? next : Otherwise;
            switch (fault.Kind)
            {
                case "refuse":
                    return Refusal(fault.Code!);
                case "drop-reply":
                    await send();
                    throw new BankException(ErrorKind.ClusterUnreachable, "Timeout", "no answer from the cluster");
                default:
                    return await send();
            }
        }
    }
}
