using Bank.Hosting.Accounts;

namespace Bank.Hosting.Gateway;

/// <summary>The events of the account behind a name (the live actor, else the latest dead one), oldest first.</summary>
public sealed record GetHistory(string Name) : IBankMessage;

/// <summary>One journaled event of an account, for `bank history`.</summary>
public sealed record HistoryEntry(long Seq, string Type, decimal? Amount, decimal Balance, DateTimeOffset At) : IBankMessage;

public sealed record History(string Name, string Key, IReadOnlyList<HistoryEntry> Events) : IBankMessage;
