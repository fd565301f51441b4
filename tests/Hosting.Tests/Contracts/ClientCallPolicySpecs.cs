using System.Reflection;
using System.Text.Json.Serialization;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// What a client may ask of an account, written once (<see cref="ClientCallPolicy"/>): deposit, withdraw and read, and no
/// other command, including any added later; and what a client hears when the actor it called is gone.
/// </summary>
public class ClientCallPolicySpecs
{
    /// <summary>Every account command there is, from the wire names the serializer knows them by.</summary>
    public static TheoryData<string> Commands => [.. typeof(IAccountCommand).GetCustomAttributes<JsonDerivedTypeAttribute>()
        .Select(derived => (string)derived.TypeDiscriminator!)];

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_client_may_deposit_withdraw_and_read_and_nothing_else(string command)
    {
        var type = typeof(IAccountCommand).GetCustomAttributes<JsonDerivedTypeAttribute>()
            .Single(derived => (string)derived.TypeDiscriminator! == command).DerivedType;
        var allowed = command is "deposit" or "withdraw" or "balance";
        IAccountCommand sample = command switch
        {
            "deposit" => new Deposit(1m),
            "withdraw" => new Withdraw(1m),
            "balance" => GetBalance.Instance,
            _ => (IAccountCommand)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(type),
        };

        Assert.Equal(allowed, ClientCallPolicy.Allows(sample));
        var refusal = ClientCallPolicy.Refusal(sample);
        if (allowed)
        {
            Assert.Null(refusal);
            return;
        }

        Assert.NotNull(refusal);
        Assert.Equal((ErrorKind.Usage, "Usage", $"{type.Name} goes through the registry, not straight to an account"),
            (refusal.Kind, refusal.Code, refusal.Message));
    }

    [Fact]
    public void Only_ActorDied_and_ActorNotFound_say_the_actor_is_gone()
    {
        Assert.True(ClientCallPolicy.IsGone(new Rejected(ErrorKind.ActorDied, "Closed", "closed")));
        Assert.True(ClientCallPolicy.IsGone(new Rejected(ErrorKind.ActorNotFound, "NotOpen", "not open")));
        Assert.False(ClientCallPolicy.IsGone(new Rejected(ErrorKind.RuleViolation, "InsufficientBalance", "no")));
        Assert.False(ClientCallPolicy.IsGone(new Rejected(ErrorKind.ClusterUnreachable, "Timeout", "silence")));
        Assert.False(ClientCallPolicy.IsGone(new AccountReply("k", "id", 1m, 0m, 1, "node")));
    }

    [Theory]
    [InlineData("Closed", "this actor of account 'k' is dead: Account is closed", "actor 'Saver' (id-1) is dead")]
    [InlineData("NotOpen", "no account with key 'k'", "actor 'Saver' (id-1) is dead")]
    [InlineData("TaskFailed", "the actor crashed while handling this call", "actor 'Saver' (id-1): the actor crashed while handling this call")]
    [InlineData(DeathCauses.MaxRestartsExceeded, "it crashed with no restarts left", "actor 'Saver' (id-1): it crashed with no restarts left")]
    public void A_gone_actor_is_ActorDied_named_with_its_incarnation_and_the_reason_when_the_call_itself_failed(
        string code, string message, string heard)
    {
        var gone = ClientCallPolicy.Gone("Saver", "id-1", new Rejected(ErrorKind.ActorDied, code, message));

        Assert.Equal(new Rejected(ErrorKind.ActorDied, code, heard), gone);
    }

    [Theory]
    [InlineData("r1")]
    [InlineData("transfer")]
    public void A_client_request_id_reaches_the_account_in_the_client_namespace_and_a_call_never_carries_a_placement(string id)
    {
        var deposit = ClientCallPolicy.Admit(new AccountRequest("k", "i", new Deposit(5m, id), Placement: "akka.tcp://bank@127.0.0.1:1"), out var refused);
        var withdraw = ClientCallPolicy.Admit(new NamedAccountRequest("a", new Withdraw(5m, id)), out _);

        Assert.Null(refused);
        Assert.Equal(new AccountRequest("k", "i", new Deposit(5m, ClientIds.Scope(id))), deposit);
        Assert.Equal(new NamedAccountRequest("a", new Withdraw(5m, ClientIds.Scope(id))), withdraw);
        Assert.StartsWith(ClientIds.ScopePrefix, ((Deposit)deposit!.Command).RequestId, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("transfer:t1:deposit")]
    [InlineData("client:r1")]
    [InlineData("")]
    public void A_client_request_id_outside_the_set_is_refused_before_any_account(string id)
    {
        Assert.Null(ClientCallPolicy.Admit(new AccountRequest("k", "i", new Deposit(5m, id)), out var refused));
        Assert.Equal((ErrorKind.Usage, "BadId"), (refused!.Kind, refused.Code));
    }

    [Fact]
    public void A_door_refuses_a_request_id_it_saw_go_to_another_account()
    {
        var targets = new RequestTargets(10);

        Assert.Null(ClientCallPolicy.ReusedElsewhere(targets, new AccountRequest("k1", "i", new Deposit(5m, "client:r1"))));
        Assert.Null(ClientCallPolicy.ReusedElsewhere(targets, new AccountRequest("k1", "i", new Deposit(5m, "client:r1"))));
        Assert.Equal(nameof(Rules.IdReused),
            ClientCallPolicy.ReusedElsewhere(targets, new AccountRequest("k2", "i", new Deposit(5m, "client:r1")))?.Code);
    }
}
