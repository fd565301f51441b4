using Xunit;
using static Bank.Domain.Tests.AccountStates;

namespace Bank.Domain.Tests;

/// <summary>
/// Client ids: short, from a documented set, in a namespace no internal id is in; a remembered id reused for another
/// operation is refused; the transfer steps an account holds are bounded.
/// </summary>
public sealed class ClientIdSpecs
{
    [Theory]
    [InlineData("a")]
    [InlineData("req-1")]
    [InlineData("0f8fad5bd9cb469fa16570867728950e")]
    [InlineData("A.b_c~d-9")]
    public void An_id_of_allowed_characters_is_valid(string id) => Assert.Null(ClientIds.Validate(id, "request id"));

    [Fact]
    public void An_id_of_128_characters_is_valid_and_one_of_129_is_not()
    {
        Assert.Null(ClientIds.Validate(new string('x', 128), "request id"));
        Assert.Equal("request id is 129 characters long; the limit is 128", ClientIds.Validate(new string('x', 129), "request id"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("transfer:t1:deposit")]
    [InlineData("client:x")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("é")]
    [InlineData("a\nb")]
    [InlineData("a\0")]
    [InlineData("ｘ")]
    public void Any_other_id_is_refused_in_one_line(string? id)
    {
        var problem = ClientIds.Validate(id, "request id");

        Assert.NotNull(problem);
        Assert.DoesNotContain('\n', problem);
        Assert.StartsWith("request id", problem);
    }

    [Theory]
    [InlineData("t1")]
    [InlineData("transfer")]
    [InlineData("x")]
    public void A_scoped_client_id_is_never_an_internal_one(string id)
    {
        var scoped = ClientIds.Scope(id);

        Assert.False(InternalIds.IsTransferStep(scoped));
        foreach (var step in new[] { "withdraw", "deposit", "refund" })
            Assert.NotEqual(InternalIds.TransferStep(id, step), scoped);
        Assert.Equal(id, ClientIds.Unscope(scoped));
    }

    [Fact]
    public void An_internal_id_is_not_in_the_client_namespace_and_shows_as_it_is()
    {
        var step = InternalIds.TransferStep("t1", "deposit");

        Assert.False(ClientIds.IsScoped(step));
        Assert.Equal(step, ClientIds.Unscope(step));
    }

    [Fact]
    public void A_deposit_id_reused_for_a_withdrawal_is_refused_and_nothing_moves()
    {
        var state = Opened(100m).Apply(new Deposited(5m, 105m, "client:r1"));

        var reused = state.Decide(new Withdraw(5m, "client:r1"));

        Assert.Empty(reused.Events);
        Assert.Null(reused.AlreadyApplied);
        Assert.Equal(nameof(Rules.IdReused), reused.Violation?.Code);
        Assert.Equal("request id 'r1' was already used for a deposit of 5.0; use a new id for another operation", reused.Violation?.Message);
    }

    [Fact]
    public void A_deposit_id_reused_for_another_amount_is_refused()
    {
        var state = Opened(100m).Apply(new Deposited(5m, 105m, "client:r1"));

        Assert.Equal(nameof(Rules.IdReused), state.Decide(new Deposit(6m, "client:r1")).Violation?.Code);
    }

    [Fact]
    public void A_withdrawal_id_reused_for_a_deposit_is_refused()
    {
        var state = Opened(100m).Apply(new Withdrawn(5m, 95m, "client:r1"));

        Assert.Equal(nameof(Rules.IdReused), state.Decide(new Deposit(5m, "client:r1")).Violation?.Code);
    }

    [Fact]
    public void The_same_call_again_is_answered_with_its_first_balance()
    {
        var state = Opened(100m).Apply(new Withdrawn(5m, 95m, "client:r1")).Apply(new Deposited(1m, 96m, "client:r2"));

        Assert.Equal(95m, state.Decide(new Withdraw(5m, "client:r1")).AlreadyApplied);
    }

    [Fact]
    public void What_each_remembered_call_did_is_rebuilt_from_the_journaled_events()
    {
        var state = AccountState.Empty.ApplyAll([
            new AccountOpened(10m, 0m, Incarnation), new Deposited(5m, 15m, "client:d"), new Withdrawn(3m, 12m, "client:w"),
        ]);

        Assert.Equal([5m, -3m], state.AppliedRequests.Select(r => r.Change));
    }

    [Fact]
    public void A_call_remembered_from_an_older_snapshot_without_its_change_is_answered_as_before()
    {
        var state = Opened(100m) with { AppliedRequests = [new AppliedRequest("client:r1", 105m)] };

        Assert.Equal(105m, state.Decide(new Withdraw(7m, "client:r1")).AlreadyApplied);
    }

    [Fact]
    public void A_full_account_refuses_new_transfer_steps_but_answers_held_ones_and_takes_refunds()
    {
        var state = Opened(1_000_000m);
        for (var i = 0; i < AccountState.MaxHeldRequests; i++)
            state = state.Apply(new Withdrawn(1m, state.Balance - 1m, InternalIds.TransferStep($"t{i}", "withdraw")));

        Assert.Equal(AccountState.MaxHeldRequests, state.HeldRequests.Count);
        Assert.Equal(Rules.TransfersInFlight, state.Decide(new Withdraw(1m, InternalIds.TransferStep("new", "withdraw"))).Violation);
        Assert.Equal(Rules.TransfersInFlight, state.Decide(new Deposit(1m, InternalIds.TransferStep("new", "deposit"))).Violation);
        Assert.NotNull(state.Decide(new Withdraw(1m, InternalIds.TransferStep("t0", "withdraw"))).AlreadyApplied);
        Assert.Single(state.Decide(new Refund(1m, InternalIds.TransferStep("t0", "refund"))).Events);
        // Client calls are not transfer steps: the bound is not theirs.
        Assert.Single(state.Decide(new Deposit(1m, ClientIds.Scope("c1"))).Events);
    }

    [Fact]
    public void A_released_transfer_frees_its_place()
    {
        var state = Opened(1_000_000m);
        for (var i = 0; i < AccountState.MaxHeldRequests; i++)
            state = state.Apply(new Withdrawn(1m, state.Balance - 1m, InternalIds.TransferStep($"t{i}", "withdraw")));

        state = state.Apply(new RequestsReleased([InternalIds.TransferStep("t0", "withdraw")]));

        Assert.Single(state.Decide(new Withdraw(1m, InternalIds.TransferStep("new", "withdraw"))).Events);
    }
}
