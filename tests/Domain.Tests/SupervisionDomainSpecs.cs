using Bank.Domain;
using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

/// <summary>Ray's max_restarts and max_task_retries, as the account journals them with each incarnation.</summary>
public sealed class SupervisionDomainSpecs
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(5, -1)]
    [InlineData(-1, -1)]
    [InlineData(-1, 0)]
    [InlineData(3, 7)]
    public void Budgets_Ray_accepts_are_valid(int maxRestarts, int maxTaskRetries)
    {
        Assert.Null(new Supervision(maxRestarts, maxTaskRetries).Validate());
    }

    [Theory]
    [InlineData(0, 1, "max_task_retries cannot be set if max_restarts is 0.")]
    [InlineData(0, -1, "max_task_retries cannot be set if max_restarts is 0.")]
    [InlineData(-2, 0, "max_restarts must be -1 (unlimited) or a number from 0, not -2")]
    [InlineData(1, -2, "max_task_retries must be -1 (unlimited) or a number from 0, not -2")]
    public void Budgets_that_cannot_work_are_refused_in_Rays_words(int maxRestarts, int maxTaskRetries, string message)
    {
        Assert.Equal(message, new Supervision(maxRestarts, maxTaskRetries).Validate());
    }

    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(2, 1, true)]
    [InlineData(2, 2, false)]
    [InlineData(-1, 1_000_000, true)]
    public void A_restart_is_allowed_while_restarts_are_left(int maxRestarts, int done, bool allowed)
    {
        Assert.Equal(allowed, new Supervision(maxRestarts, 0).AllowsRestart(done));
    }

    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(1, 0, true)]
    [InlineData(1, 1, false)]
    [InlineData(-1, 1_000_000, true)]
    public void A_call_is_retried_while_its_retries_are_left(int maxTaskRetries, int done, bool allowed)
    {
        Assert.Equal(allowed, new Supervision(-1, maxTaskRetries).AllowsRetry(done));
    }

    [Fact]
    public void An_open_journals_the_incarnations_supervision()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(10m, 0m, "inc", MaxRestarts: 5, MaxTaskRetries: -1));

        var opened = Assert.IsType<AccountOpened>(Assert.Single(decision.Events));
        Assert.Equal((5, -1), (opened.MaxRestarts, opened.MaxTaskRetries));
        Assert.Equal(new Supervision(5, -1), AccountState.Empty.Apply(opened).Supervision);
    }

    [Fact]
    public void An_open_with_budgets_that_cannot_work_is_refused_and_journals_nothing()
    {
        var decision = AccountState.Empty.Decide(new OpenAccount(10m, 0m, "inc", MaxRestarts: 0, MaxTaskRetries: 2));

        Assert.Empty(decision.Events);
        Assert.Equal(Supervision.RetriesNeedRestarts, decision.Violation?.Message);
    }

    [Fact]
    public void Restarts_are_counted_per_incarnation_and_a_reopen_starts_from_zero_with_its_own_budget()
    {
        var restarted = Opened(10m).Apply(new AccountRestarted(2, "boom"));
        Assert.Equal(2, restarted.Restarts);

        var reopened = restarted.Apply(new AccountClosed("MAX_RESTARTS_EXCEEDED", 10m)).Apply(new AccountReopened("inc-2", 10m, 3, 1));

        Assert.Equal(0, reopened.Restarts);
        Assert.Equal(new Supervision(3, 1), reopened.Supervision);
        Assert.Equal(10m, reopened.Balance);
    }

    [Fact]
    public void Recording_restarts_journals_only_a_higher_count()
    {
        var state = Opened(10m).Apply(new AccountRestarted(2, "boom"));

        Assert.Empty(state.Decide(new RecordRestarts(2, "boom")).Events);
        Assert.Equal(new AccountRestarted(3, "boom"), Assert.Single(state.Decide(new RecordRestarts(3, "boom")).Events));
    }

    [Fact]
    public void A_refund_is_accepted_by_a_closed_account_once_per_request_id()
    {
        var closed = Closed(10m);

        var refund = closed.Decide(new Refund(5m, "transfer:t:refund"));

        Assert.Equal(new Deposited(5m, 15m, "transfer:t:refund"), Assert.Single(refund.Events));
        var again = closed.ApplyAll(refund.Events).Decide(new Refund(5m, "transfer:t:refund"));
        Assert.Empty(again.Events);
        Assert.Equal(15m, again.AlreadyApplied);
    }

    [Fact]
    public void A_refund_of_a_negative_amount_or_to_an_account_never_opened_is_refused()
    {
        Assert.Equal(Rules.NegativeDeposit, Opened(10m).Decide(new Refund(-1m, "r")).Violation);
        Assert.Equal(Rules.NotOpen, AccountState.Empty.Decide(new Refund(1m, "r")).Violation);
    }

    [Fact]
    public void An_account_says_whether_it_applied_a_request_even_when_closed()
    {
        var closed = Opened(10m).Apply(new Withdrawn(4m, 6m, "transfer:t:withdraw")).Apply(new AccountClosed("KILLED", 6m));

        Assert.Equal(6m, closed.Decide(new FindApplied("transfer:t:withdraw")).AlreadyApplied);
        Assert.Equal(Rules.NotApplied, closed.Decide(new FindApplied("transfer:u:withdraw")).Violation);
        Assert.Empty(closed.Decide(new FindApplied("transfer:t:withdraw")).Events);
    }
}

/// <summary>A transfer decides from the account's memory of its steps, so that memory must not run out (issue 4).</summary>
public sealed class HeldRequestSpecs
{
    /// <summary>So many calls after <paramref name="state"/>, made after the retention of what came before has passed.</summary>
    private static AccountState AfterManyOtherCalls(AccountState state, int count) =>
        Enumerable.Range(0, count).Aggregate(state.At(state.Now + state.Retention.Retention), (s, i) => s.Apply(new Deposited(1m, s.Balance + 1m, $"other-{i}")));

    [Fact]
    public void A_transfer_step_is_remembered_however_many_calls_come_after_it()
    {
        var state = AfterManyOtherCalls(Opened(100m).Apply(new Withdrawn(30m, 70m, "transfer:t:withdraw")), AccountState.RememberedRequests + 50);

        var again = state.Decide(new Withdraw(30m, "transfer:t:withdraw"));

        Assert.Empty(again.Events);
        Assert.Equal(70m, again.AlreadyApplied);
        Assert.Equal(70m, state.Decide(new FindApplied("transfer:t:withdraw")).AlreadyApplied);
    }

    [Fact]
    public void An_ordinary_request_id_is_forgotten_after_the_latest_256()
    {
        var state = AfterManyOtherCalls(Opened(100m).Apply(new Withdrawn(30m, 70m, "client-1")), AccountState.RememberedRequests);

        Assert.Equal(Rules.NotApplied, state.Decide(new FindApplied("client-1")).Violation);
    }

    [Fact]
    public void A_finished_transfer_releases_its_steps_and_a_release_of_nothing_held_journals_nothing()
    {
        var state = Opened(100m).Apply(new Withdrawn(30m, 70m, "transfer:t:withdraw"));

        var release = state.Decide(new ReleaseRequests(["transfer:t:withdraw", "transfer:t:refund"]));

        Assert.Equal(new RequestsReleased(["transfer:t:withdraw"]), Assert.Single(release.Events), new ReleasedComparer());
        var released = AfterManyOtherCalls(state.ApplyAll(release.Events), AccountState.RememberedRequests);
        Assert.Empty(released.HeldRequests);
        Assert.Empty(released.Decide(new ReleaseRequests(["transfer:t:withdraw"])).Events);
    }

    private sealed class ReleasedComparer : IEqualityComparer<IAccountEvent>
    {
        public bool Equals(IAccountEvent? x, IAccountEvent? y) =>
            x is RequestsReleased a && y is RequestsReleased b && a.RequestIds.SequenceEqual(b.RequestIds);

        public int GetHashCode(IAccountEvent obj) => 0;
    }
}
