using Bank.Domain;

namespace Bank.Hosting.Contracts;

/// <summary>
/// A client's call on the account behind a name (deposit, withdraw, balance): the node's gateway finds the name's live
/// incarnation and calls it, so a call by name costs the client one round trip, not a lookup and then a call. Answered
/// with the account's <see cref="AccountReply"/>, or a <see cref="Rejected"/> (ActorNotFound for an unknown name).
/// A resent call carries the same request id in its command, and the account applies it once.
/// </summary>
public sealed record NamedAccountRequest(string Name, IAccountCommand Command) : IGatewayRequest;

/// <summary>
/// A <see cref="NamedAccountRequest"/> from a client through ClusterClient, under the id its
/// <see cref="CorrelatedAccountReply"/> comes back with (see <see cref="CorrelatedAccountRequest"/> for why).
/// </summary>
public sealed record CorrelatedNamedAccountRequest(long Id, NamedAccountRequest Request) : IGatewayRequest;
