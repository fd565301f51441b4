using Bank.Domain;
using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

/// <summary>
/// How long an account remembers applied request ids, and the resend it refuses rather than apply twice: an unknown id
/// first sent longer ago than the account keeps ids (IdExpired), on the account's monotonic clock, never the wall clock.
/// </summary>
public sealed class RequestRetentionSpecs
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static AccountState Keeping(TimeSpan retention, int floor = 2, int max = 5) =>
        AccountState.Empty.At(Minute) with { Retention = new RequestRetention(retention, floor, max) };

    private static AccountState OpenedKeeping(TimeSpan retention, int floor = 2, int max = 5) =>
        Keeping(retention, floor, max).Apply(new AccountOpened(100m, 0m, Incarnation));

    private static AccountState Deposited(AccountState state, string id) =>
        state.ApplyAll(state.Decide(new Deposit(1m, id)).Events);

    [Fact]
    public void An_unknown_id_first_sent_as_long_ago_as_the_retention_is_refused_as_expired_and_applies_nothing()
    {
        var state = OpenedKeeping(TimeSpan.FromSeconds(2));

        var resend = state.Decide(new Deposit(5m, "client:r1", Age: TimeSpan.FromSeconds(2)));

        Assert.Equal(Rules.IdExpiredCode, resend.Violation?.Code);
        Assert.Empty(resend.Events);
        Assert.Contains("r1", resend.Violation!.Message);
        Assert.Contains("bank history", resend.Violation.Message);
    }

    [Fact]
    public void An_unknown_id_first_sent_within_the_retention_is_applied()
    {
        var state = OpenedKeeping(TimeSpan.FromSeconds(2));

        var resend = state.Decide(new Withdraw(5m, "client:r1", Age: TimeSpan.FromSeconds(1.9)));

        Assert.Equal(new Withdrawn(5m, 95m, "client:r1"), Assert.Single(resend.Events));
    }

    [Fact]
    public void A_remembered_id_is_answered_whatever_its_age()
    {
        var state = Deposited(OpenedKeeping(TimeSpan.FromSeconds(2)), "client:r1");

        var resend = state.At(Minute + TimeSpan.FromSeconds(1)).Decide(new Deposit(1m, "client:r1", Age: TimeSpan.FromHours(1)));

        Assert.Null(resend.Violation);
        Assert.Equal(101m, resend.AlreadyApplied);
    }

    [Fact]
    public void An_id_is_kept_for_the_retention_then_forgotten_beyond_the_latest_floor()
    {
        var state = Deposited(Deposited(OpenedKeeping(TimeSpan.FromSeconds(2), floor: 1), "client:r1"), "client:r2");

        var justBefore = Deposited(state.At(Minute + TimeSpan.FromSeconds(1.9)), "client:r3");
        var after = Deposited(state.At(Minute + TimeSpan.FromSeconds(2)), "client:r3");

        Assert.NotNull(justBefore.Applied("client:r1"));
        Assert.Null(after.Applied("client:r1"));
        Assert.Null(after.Applied("client:r2"));
        Assert.NotNull(after.Applied("client:r3"));
        // Forgotten because of their age, so any resend of them is at least that old: refused, not applied again.
        Assert.Equal(Rules.IdExpiredCode, after.Decide(new Deposit(1m, "client:r1", Age: TimeSpan.FromSeconds(2))).Violation?.Code);
    }

    [Fact]
    public void The_latest_floor_ids_are_kept_however_old()
    {
        var state = Deposited(Deposited(OpenedKeeping(TimeSpan.FromSeconds(2), floor: 2), "client:r1"), "client:r2");

        var muchLater = state.At(Minute * 100);

        Assert.NotNull(muchLater.Applied("client:r1"));
        Assert.Equal(101m, muchLater.Decide(new Deposit(1m, "client:r1", Age: Minute * 99)).AlreadyApplied);
    }

    [Fact]
    public void Past_the_count_bound_an_unknown_id_first_sent_before_the_oldest_was_forgotten_is_refused()
    {
        var state = OpenedKeeping(Minute * 10, floor: 1, max: 3);
        for (var i = 1; i <= 4; i++) state = Deposited(state, $"client:r{i}");
        Assert.Null(state.Applied("client:r1"));
        var later = state.At(Minute + TimeSpan.FromSeconds(1));

        var sentBeforeTheDrop = later.Decide(new Deposit(1m, "client:x", Age: TimeSpan.FromSeconds(2)));
        var sentAfterTheDrop = later.Decide(new Deposit(1m, "client:y", Age: TimeSpan.FromSeconds(0.5)));

        Assert.Equal(Rules.IdExpiredCode, sentBeforeTheDrop.Violation?.Code);
        Assert.Single(sentAfterTheDrop.Events);
        Assert.Equal(3, state.AppliedRequests.Count);
    }

    [Fact]
    public void Recovered_ids_count_as_applied_at_recovery()
    {
        var state = Deposited(OpenedKeeping(TimeSpan.FromSeconds(2), floor: 0), "client:r1");

        var recovered = state.Recovered(Minute * 30, state.Retention);
        var soonAfter = Deposited(recovered.At(Minute * 30 + TimeSpan.FromSeconds(1)), "client:r2");

        Assert.NotNull(soonAfter.Applied("client:r1"));
    }

    [Fact]
    public void A_first_send_has_no_age_and_is_never_refused_as_expired()
    {
        var state = OpenedKeeping(TimeSpan.FromSeconds(2), floor: 1, max: 1);
        for (var i = 1; i <= 3; i++) state = Deposited(state, $"client:r{i}");

        Assert.Single(state.Decide(new Deposit(1m, "client:new")).Events);
    }
}
