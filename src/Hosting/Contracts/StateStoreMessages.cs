namespace Bank.Hosting.Contracts;

/// <summary>Rows for a persistence worker to write into the state store, in one transaction.</summary>
public sealed record StoreBatch(long Id, IReadOnlyList<AccountRow> Rows) : IBankMessage;

/// <summary>The worker (named <paramref name="Worker"/>: node and routee) wrote the batch.</summary>
public sealed record BatchStored(long Id, string Worker, int Rows) : IBankMessage;

/// <summary>The batch itself is wrong (an application error): it is not retried.</summary>
public sealed record BatchRefused(long Id, string Worker, string Reason) : IBankMessage;

/// <summary>Fault injection for tests and demos: the worker crashes on the next batch it is given (the batch is lost with it).</summary>
public sealed record CrashOnNextBatch : IGatewayRequest
{
    public static readonly CrashOnNextBatch Instance = new();
}

/// <summary>How far the state store is, and how the work spread over the persistence workers.</summary>
public sealed record GetStateStoreProgress : IGatewayRequest
{
    public static readonly GetStateStoreProgress Instance = new();
}

/// <param name="Offset">The journal offset the store holds everything up to.</param>
/// <param name="Head">The journal's newest offset when asked: the store lags by Head - Offset events.</param>
/// <param name="RowsByWorker">Rows written by each worker since the feeder started.</param>
/// <param name="Retried">Batches sent again to another worker because theirs died or failed (system failures).</param>
/// <param name="Refused">Batches refused as wrong (application errors), never retried.</param>
public sealed record StateStoreProgress(long Offset, long Head, IReadOnlyDictionary<string, long> RowsByWorker, long Retried, long Refused)
    : IBankMessage;

/// <summary>`bank list` and `bank balance --from-store`: the stored rows of these accounts (all when null).</summary>
public sealed record GetStoredAccounts(IReadOnlyList<string>? Keys) : IGatewayRequest;

/// <param name="Lag">How many journal events the store had not yet taken in when it was read.</param>
public sealed record StoredAccounts(IReadOnlyList<StoredAccount> Accounts, long Lag) : IBankMessage;

/// <summary>
/// One account's row in the query-side state store, as of its journal event <paramref name="Version"/> (the event's
/// sequence number). <paramref name="Balance"/> and <paramref name="MinimalBalance"/> are null when the event does not
/// say them (then the row keeps what it has); <paramref name="Name"/> likewise.
/// </summary>
public sealed record AccountRow(string Key, long Version, decimal? Balance, decimal? MinimalBalance, string? Name, DateTimeOffset UpdatedAt);

/// <summary>What `bank list` and `bank balance --from-store` read: the store's row of an account.</summary>
public sealed record StoredAccount(string Key, string? Name, decimal Balance, decimal? MinimalBalance, long Version, DateTimeOffset UpdatedAt);
