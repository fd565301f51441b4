using Bank.Domain;
using Bank.Hosting.Contracts;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Who may send what through a node's client door (<see cref="DoorPolicy"/>): every request a client can send has a
/// decision written here, so a new request type without one fails; every other message, internal ones included, is refused.
/// </summary>
public class DoorPolicySpecs
{
    private static readonly Dictionary<Type, DoorAccess> Decided = new()
    {
        [typeof(OpenActor)] = DoorAccess.Client,
        [typeof(GetActor)] = DoorAccess.Client,
        [typeof(KillActor)] = DoorAccess.Client,
        [typeof(ListActors)] = DoorAccess.Client,
        [typeof(OwnerHeartbeat)] = DoorAccess.Client,
        [typeof(OwnerEnded)] = DoorAccess.Client,
        [typeof(AccountRequest)] = DoorAccess.Client,
        [typeof(CorrelatedAccountRequest)] = DoorAccess.Client,
        [typeof(NamedAccountRequest)] = DoorAccess.Client,
        [typeof(CorrelatedNamedAccountRequest)] = DoorAccess.Client,
        [typeof(TransferMoney)] = DoorAccess.Client,
        [typeof(GetHistory)] = DoorAccess.Client,
        [typeof(GetStoredAccounts)] = DoorAccess.Client,
        [typeof(GetStateStoreProgress)] = DoorAccess.Client,
        [typeof(GetClusterView)] = DoorAccess.Client,
        [typeof(GetMembershipEvents)] = DoorAccess.Client,
        [typeof(GetShards)] = DoorAccess.Client,
        [typeof(GetActorTree)] = DoorAccess.Client,
        [typeof(GetClusterStatus)] = DoorAccess.Client,
        [typeof(ChangeMembership)] = DoorAccess.Admin,
        [typeof(CrashActor)] = DoorAccess.Admin,
        [typeof(CrashOnNextBatch)] = DoorAccess.Admin,
        [typeof(KillNode)] = DoorAccess.Admin,
    };

    /// <summary>Every message type of Bank that crosses the wire (all of them are <see cref="IBankMessage"/>s).</summary>
    public static TheoryData<string> Messages => [.. typeof(IBankMessage).Assembly.GetTypes()
        .Where(type => typeof(IBankMessage).IsAssignableFrom(type) && type is { IsAbstract: false, IsInterface: false })
        .Select(type => type.FullName!)];

    [Fact]
    public void Every_request_a_client_can_send_to_the_gateway_has_a_decision()
    {
        var requests = typeof(IBankMessage).Assembly.GetTypes()
            .Where(type => typeof(IGatewayRequest).IsAssignableFrom(type) && type is { IsAbstract: false, IsInterface: false });

        Assert.Empty(requests.Where(type => !Decided.ContainsKey(type)).Select(type => type.Name));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Each_message_type_needs_what_is_decided_for_it_and_every_other_one_is_refused(string message)
    {
        var type = typeof(IBankMessage).Assembly.GetType(message)!;

        Assert.Equal(Decided.GetValueOrDefault(type, DoorAccess.Refused), DoorPolicy.Needs(type));
    }

    [Theory]
    [InlineData(typeof(ListActors), DoorAccess.Client, true)]
    [InlineData(typeof(ListActors), DoorAccess.Admin, true)]
    [InlineData(typeof(ListActors), DoorAccess.Refused, false)]
    [InlineData(typeof(ChangeMembership), DoorAccess.Client, false)]
    [InlineData(typeof(ChangeMembership), DoorAccess.Admin, true)]
    [InlineData(typeof(KillNode), DoorAccess.Client, false)]
    [InlineData(typeof(KillNode), DoorAccess.Admin, true)]
    [InlineData(typeof(RecordPlacement), DoorAccess.Admin, false)]
    [InlineData(typeof(StoreBatch), DoorAccess.Admin, false)]
    public void An_admin_may_do_all_a_client_may_and_what_changes_the_cluster_and_nobody_sends_internals(
        Type type, DoorAccess granted, bool allowed)
    {
        var request = System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(type);

        Assert.Equal(allowed, DoorPolicy.Allows(granted, request));
        var refusal = DoorPolicy.Refusal(granted, request);
        Assert.Equal(allowed, refusal is null);
        if (refusal is not null) Assert.Equal((ErrorKind.Unauthorized, "Unauthorized"), (refusal.Kind, refusal.Code));
    }

    [Fact]
    public void A_client_never_chooses_where_an_account_runs()
    {
        var placed = new AccountRequest("k", "id", new Deposit(1m), Placement: "akka.tcp://bank@127.0.0.1:4053");

        Assert.Equal(DoorAccess.Refused, DoorPolicy.Needs(placed));
        Assert.Equal(DoorAccess.Refused, DoorPolicy.Needs(new CorrelatedAccountRequest(1, placed)));
        Assert.Equal(DoorAccess.Client, DoorPolicy.Needs(placed with { Placement = null }));
    }

    [Fact]
    public void A_client_hears_that_an_admin_command_needs_an_admin_certificate()
    {
        var refusal = DoorPolicy.Refusal(DoorAccess.Client, new ChangeMembership(ChangeMembership.Down, "127.0.0.1:4053"));

        Assert.Equal(new Rejected(ErrorKind.Unauthorized, "Unauthorized", "ChangeMembership needs an admin certificate; this one is a client's"),
            refusal);
    }
}
