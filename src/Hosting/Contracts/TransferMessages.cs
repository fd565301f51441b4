namespace Bank.Hosting.Contracts;

/// <summary>Messages routed by Cluster Sharding to the saga of one transfer, by its id.</summary>
public interface ITransferEnvelope : IBankMessage
{
    string TransferId { get; }
}

/// <summary>One side of a transfer: the named actor, its account key and the incarnation the caller holds.</summary>
public sealed record TransferParty(string Name, string Key, string Id);

/// <summary>
/// Moves <paramref name="Amount"/> from one account to another, exactly once. A retry with the same
/// <paramref name="TransferId"/> gets the first attempt's outcome, however many times it is sent.
/// </summary>
public sealed record TransferMoney(string TransferId, TransferParty From, TransferParty To, decimal Amount) : ITransferEnvelope, IGatewayRequest;

/// <summary>The transfer is done: both balances right after it.</summary>
public sealed record Transferred(string TransferId, string From, string To, decimal Amount, decimal FromBalance, decimal ToBalance)
    : IBankMessage;

// Events of a transfer saga's journal: its progress, so that it resumes after a crash where it stopped.

public sealed record TransferStarted(TransferParty From, TransferParty To, decimal Amount) : IBankMessage;

/// <summary>The amount left the source account.</summary>
public sealed record TransferDebited(decimal FromBalance) : IBankMessage;

/// <summary>The amount reached the target account: the transfer is complete.</summary>
public sealed record TransferCredited(decimal ToBalance) : IBankMessage;

/// <summary>The source refused the withdrawal: nothing moved, the transfer failed.</summary>
public sealed record TransferRefused(Rejected Reason) : IBankMessage;

/// <summary>The target refused the deposit: the amount goes back to the source.</summary>
public sealed record TransferReverting(Rejected Reason) : IBankMessage;

/// <summary>The amount is back in the source account: the transfer failed with the target's reason.</summary>
public sealed record TransferReverted(decimal FromBalance) : IBankMessage;
