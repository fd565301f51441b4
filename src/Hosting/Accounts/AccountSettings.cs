using Akka.Actor;
using Bank.Domain;

namespace Bank.Hosting.Accounts;

/// <summary>Tunables of the Account entities, read from <c>bank.accounts</c>, <c>bank.resources</c> and <c>bank.chaos</c> in hocon/bank.hocon.</summary>
public sealed record AccountSettings(
    int SnapshotEvery,
    TimeSpan AskTimeout,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    double RandomFactor,
    bool AllowFaultInjection,
    TimeSpan PendingTimeout,
    string Node,
    string? Mailbox)
{
    /// <summary>Where the account actors' mailbox is configured (<see cref="CompactMailbox"/>).</summary>
    public const string MailboxPath = "bank.accounts.mailbox";

    /// <summary>How long and how many applied request ids each account remembers (bank.accounts.request-id-retention, max-remembered-ids).</summary>
    public RequestRetention Retention { get; init; } = RequestRetention.Default;

    /// <summary>What supervisors time pending placements with: its monotonic timestamps, never its wall clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>A monotonic reading of <see cref="Clock"/> (elapsed since its timestamps' origin): differences of two are durations.</summary>
    public TimeSpan Monotonic() => Clock.GetElapsedTime(0);

    private Deploy? _deploy;

    /// <summary>Props of one of an account's actors, with its mailbox when the system configures one.</summary>
    public Props WithMailbox(Props props) => Mailbox is null ? props : props.WithMailbox(Mailbox);

    /// <summary>
    /// Props of an account's own actor (<typeparamref name="TActor"/> made with <paramref name="args"/>) on the accounts'
    /// mailbox, all sharing one deployment: <see cref="Props.WithMailbox"/> would make one per live account.
    /// </summary>
    public Props PropsOf<TActor>(params object?[] args) where TActor : ActorBase =>
        Mailbox is null ? new Props(typeof(TActor), args) : new Props(_deploy ??= Deploy.None.WithMailbox(Mailbox), typeof(TActor), args);

    public static AccountSettings From(ActorSystem system)
    {
        var config = system.Settings.Config;
        return new AccountSettings(
            SnapshotEvery: Math.Max(1, config.GetInt("bank.accounts.snapshot-every", 100)),
            AskTimeout: config.GetTimeSpan("bank.accounts.ask-timeout", TimeSpan.FromSeconds(10)),
            MinBackoff: config.GetTimeSpan("bank.accounts.supervision.min-backoff", TimeSpan.FromMilliseconds(200)),
            MaxBackoff: config.GetTimeSpan("bank.accounts.supervision.max-backoff", TimeSpan.FromSeconds(5)),
            RandomFactor: config.GetDouble("bank.accounts.supervision.random-factor", 0.2),
            AllowFaultInjection: config.GetBoolean("bank.chaos.allow-fault-injection", false),
            PendingTimeout: config.GetTimeSpan("bank.resources.pending-timeout", TimeSpan.FromSeconds(30)),
            // Every actor of every account names its node; one string serves them all.
            Node: ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString(),
            Mailbox: config.HasPath(MailboxPath + ".mailbox-type") ? MailboxPath : null)
        {
            Retention = new RequestRetention(
                config.GetTimeSpan("bank.accounts.request-id-retention", RequestRetention.Default.Retention),
                RequestRetention.Default.Floor,
                Math.Max(RequestRetention.Default.Floor, config.GetInt("bank.accounts.max-remembered-ids", RequestRetention.Default.Max))),
        };
    }
}
