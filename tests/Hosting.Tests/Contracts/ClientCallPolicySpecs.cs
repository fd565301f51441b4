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
}
