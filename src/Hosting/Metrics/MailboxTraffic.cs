namespace Bank.Hosting.Metrics;

/// <summary>A count of messages that mailboxes took in, added to from any thread.</summary>
public sealed class MessageCounter
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Add() => Interlocked.Increment(ref _count);
}

/// <summary>
/// The messages this process's actors were sent, counted as their mailboxes take them in (an unstashed message put back
/// is not counted again): those to the account actors (<c>CompactMailbox</c>) and to every other actor, once a node of the
/// process runs on <see cref="CountingMailbox"/> (<c>bank bench</c>). Replies to an ask's temporary actor and
/// system messages (watch, stop) pass no mailbox queue and are not counted. Process-wide: every actor system of the
/// process adds to the same counts.
/// </summary>
public static class MailboxTraffic
{
    private static volatile bool _counting;

    /// <summary>
    /// Whether the account actors' mailboxes count: from when a node of this process runs on <see cref="CountingMailbox"/>.
    /// Elsewhere every account message would write one counter shared by all cores, for nobody to read.
    /// </summary>
    public static bool Counting => _counting;

    public static void StartCounting() => _counting = true;

    /// <summary>Messages to the account's actors: its entity, its BackoffSupervisor and the account itself.</summary>
    public static readonly MessageCounter AccountActors = new();

    /// <summary>Messages to any other actor on a <see cref="CountingMailbox"/>.</summary>
    public static readonly MessageCounter OtherActors = new();

    public static MailboxCounts Now() => new(AccountActors.Count, OtherActors.Count);
}

/// <summary>Messages counted by <see cref="MailboxTraffic"/>, from the start of the process or between two readings.</summary>
public readonly record struct MailboxCounts(long AccountMessages, long OtherMessages)
{
    public long AllMessages => AccountMessages + OtherMessages;

    public MailboxCounts Since(MailboxCounts start) => new(AccountMessages - start.AccountMessages, OtherMessages - start.OtherMessages);
}
