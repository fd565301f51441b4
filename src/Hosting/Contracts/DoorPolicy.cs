using System.Collections.Frozen;

namespace Bank.Hosting.Contracts;

/// <summary>What a caller at a node's client door must hold to send a request: nothing passes as <see cref="Refused"/>.</summary>
public enum DoorAccess
{
    Refused,
    Client,
    Admin,
}

/// <summary>
/// Which requests a client (role <c>client</c>) and an operator (role <c>admin</c>) may send through a node's client door;
/// any other message, internal ones included (refunds, registry and placement internals, sharding envelopes), and any
/// type added later without a decision here, is refused. Pure: the door checks it on every request.
/// </summary>
public static class DoorPolicy
{
    private static readonly FrozenDictionary<Type, DoorAccess> Needed = new Dictionary<Type, DoorAccess>
    {
        // accounts and the registry: open, get, kill and exit, list, an owner's liveness
        [typeof(OpenActor)] = DoorAccess.Client,
        [typeof(GetActor)] = DoorAccess.Client,
        [typeof(KillActor)] = DoorAccess.Client,
        [typeof(ListActors)] = DoorAccess.Client,
        [typeof(OwnerHeartbeat)] = DoorAccess.Client,
        [typeof(OwnerEnded)] = DoorAccess.Client,
        // account calls (ClientCallPolicy narrows them to deposit, withdraw and balance at the gateway)
        [typeof(AccountRequest)] = DoorAccess.Client,
        [typeof(CorrelatedAccountRequest)] = DoorAccess.Client,
        [typeof(NamedAccountRequest)] = DoorAccess.Client,
        [typeof(CorrelatedNamedAccountRequest)] = DoorAccess.Client,
        [typeof(TransferMoney)] = DoorAccess.Client,
        [typeof(GetHistory)] = DoorAccess.Client,
        [typeof(GetStoredAccounts)] = DoorAccess.Client,
        [typeof(GetStateStoreProgress)] = DoorAccess.Client,
        // read-only inspection
        [typeof(GetClusterView)] = DoorAccess.Client,
        [typeof(GetMembershipEvents)] = DoorAccess.Client,
        [typeof(GetShards)] = DoorAccess.Client,
        [typeof(GetActorTree)] = DoorAccess.Client,
        [typeof(GetClusterStatus)] = DoorAccess.Client,
        // what changes the cluster or can stop a node
        [typeof(ChangeMembership)] = DoorAccess.Admin,
        [typeof(CrashActor)] = DoorAccess.Admin,
        [typeof(CrashOnNextBatch)] = DoorAccess.Admin,
        [typeof(KillNode)] = DoorAccess.Admin,
    }.ToFrozenDictionary();

    /// <summary>What <paramref name="request"/> needs; a placement on an account call is the registry's alone.</summary>
    public static DoorAccess Needs(object request) => request switch
    {
        AccountRequest { Placement: not null } or CorrelatedAccountRequest { Request.Placement: not null } => DoorAccess.Refused,
        _ => Needs(request.GetType()),
    };

    /// <summary>What a request of <paramref name="type"/> needs: <see cref="DoorAccess.Refused"/> for any type not listed.</summary>
    public static DoorAccess Needs(Type type) => Needed.GetValueOrDefault(type, DoorAccess.Refused);

    /// <summary>Whether a caller granted <paramref name="granted"/> may send <paramref name="request"/>; admin may do all a client may.</summary>
    public static bool Allows(DoorAccess granted, object request) => Needs(request) switch
    {
        DoorAccess.Client => granted is DoorAccess.Client or DoorAccess.Admin,
        DoorAccess.Admin => granted is DoorAccess.Admin,
        _ => false,
    };

    /// <summary>Why a caller granted <paramref name="granted"/> may not send <paramref name="request"/>; null when it may.</summary>
    public static Rejected? Refusal(DoorAccess granted, object request) =>
        Allows(granted, request) ? null : Needs(request) switch
        {
            DoorAccess.Admin => Rejected.Unauthorized($"{request.GetType().Name} needs an admin certificate; this one is a client's"),
            _ => Rejected.Unauthorized($"{request.GetType().Name} is not accepted from clients"),
        };
}
