using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Pattern;
using Bank.Domain;
using Bank.Hosting.Configuration;
using Bank.Hosting.Registry;

namespace Bank.Hosting.Accounts;

/// <summary>
/// The sharded entity of one account: Ray's actor supervision for it. It runs the <see cref="AccountActor"/> under
/// Akka's BackoffSupervisor (restart on failure after an exponential, jittered backoff) and enforces the incarnation's
/// budgets, which the account journals when it is opened, so they hold after passivation and failover:
/// <list type="bullet">
/// <item>max restarts: a crash with none left leaves the actor DEAD with MAX_RESTARTS_EXCEEDED;</item>
/// <item>max task retries: calls in flight during a crash are resent after the restart while their retries last,
/// else answered ActorDied. A resent deposit carries its request id, so the account applies it once.</item>
/// </list>
/// Calls that arrive while the account restarts wait for it. The restart count is journaled by the account itself
/// (<see cref="RecordRestarts"/>) and reported to the registry for `bank list`.
/// </summary>
public sealed class AccountSupervisor : ReceiveActor, IWithUnboundedStash
{
    private const string MaxRestartsExceeded = DeathCauses.MaxRestartsExceeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _key;
    private readonly AccountSettings _settings;
    private readonly string _node;
    private readonly SortedDictionary<long, Call> _calls = [];
    private IActorRef? _registry;
    private IActorRef _backoff = ActorRefs.Nobody;
    private IActorRef _closer = ActorRefs.Nobody;
    private int _generation;
    private Supervision _supervision = Supervision.Default;
    private string _incarnation = string.Empty;
    private int _restarts;
    private bool _restarting;
    private string _lastCause = "crashed";
    private int _crashesToInject;
    private long _seq;
    private bool _closed;
    private bool _failureRecorded;
    private bool _passivating;
    private bool _draining;
    private ICancelable? _failureReport;

    public AccountSupervisor(string key, AccountSettings settings)
    {
        _key = key;
        _settings = settings;
        _node = Cluster.Get(Context.System).SelfAddress.ToString();
        Running();
    }

    public IStash Stash { get; set; } = null!;

    public static Props PropsFor(string key, AccountSettings settings) => Props.Create(() => new AccountSupervisor(key, settings));

    protected override void PreStart()
    {
        ActorRegistry.For(Context.System).TryGet<NameRegistryKey>(out _registry);
        StartAccount();
    }

    protected override void PostStop() => _failureReport?.Cancel();

    // The BackoffSupervisor and the account instance that closes a dead incarnation are stopped, never restarted, by us.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    /// <summary>A fresh BackoffSupervisor over a fresh account instance; its strategy tells us of every crash.</summary>
    private void StartAccount()
    {
        var self = Self;
        var options = Backoff.OnFailure(
                AccountActor.PropsFor(_key, _settings, self), "account",
                _settings.MinBackoff, _settings.MaxBackoff, _settings.RandomFactor, maxNrOfRetries: -1)
            .WithSupervisorStrategy(new OneForOneStrategy(-1, -1, cause =>
            {
                // Runs in the BackoffSupervisor; telling is safe from anywhere and keeps the order of this instance's start.
                self.Tell(new AccountCrashed($"{cause.GetType().Name}: {cause.Message}", cause is InjectedCrash));
                return Directive.Restart;
            }, loggingEnabled: false));
        _backoff = Context.Watch(Context.ActorOf(BackoffSupervisor.Props(options), $"backoff-{++_generation}"));
    }

    private void Running()
    {
        Receive<AccountRequest>(request => Track(request, Sender, send: true));
        Receive<SupervisedAnswer>(Answered);
        Receive<AccountStarted>(Started);
        Receive<AccountCrashed>(Crashed);
        Receive<InjectCrash>(Inject);
        Receive<AccountProbe>(probe => _backoff.Forward(probe));
        Receive<Passivate>(_ => Context.Parent.Tell(new Passivate(StopWhenIdle.Instance)));
        Receive<StopWhenIdle>(_ => Drain());
        Receive<Terminated>(JournalFailed);
    }

    private void Restarting()
    {
        // Calls wait for the restarted instance; they are not in flight, so they use none of their retries.
        Receive<AccountRequest>(request => Track(request, Sender, send: false));
        Receive<SupervisedAnswer>(Answered);
        Receive<AccountStarted>(Started);
        Receive<AccountCrashed>(_ => { });
        Receive<InjectCrash>(Inject);
        Receive<AccountProbe>(probe => _backoff.Forward(probe));
        Receive<Passivate>(_ => Context.Parent.Tell(new Passivate(StopWhenIdle.Instance)));
        Receive<StopWhenIdle>(_ => Drain());
        Receive<Terminated>(JournalFailed);
    }

    /// <summary>
    /// Passivation or a hand-off: the shard holds new calls meanwhile; the calls already passed to the account are
    /// answered first, then the entity stops. Stopping at once would drop them with the account's mailbox.
    /// </summary>
    private void Drain()
    {
        _draining = true;
        StopIfDrained();
    }

    private void StopIfDrained()
    {
        if (_draining && _calls.Count == 0) Context.Stop(Self);
    }

    /// <summary>No restarts left: every call is answered ActorDied while the journal and the registry learn of it.</summary>
    private void Dead()
    {
        Receive<AccountRequest>(request =>
        {
            switch (request.Command)
            {
                // Passivation is under way: the shard holds the call and gives it to the next instance of the entity.
                case OpenAccount or Refund or FindApplied or ReleaseRequests when _passivating:
                    Context.Parent.Forward(request);
                    break;
                // A new incarnation may be opened on the key once the dead one's close is journaled: a fresh entity
                // serves it, so this one passivates and the shard hands the open to its successor.
                case OpenAccount open when open.Incarnation != _incarnation:
                    if (!_closed)
                    {
                        Stash.Stash();
                        break;
                    }

                    _failureRecorded = true;
                    PassivateWhenSettled(force: true);
                    Context.Parent.Forward(request);
                    break;
                // Money owed, and questions about applied calls, are answered by the closed account.
                case Refund or FindApplied or ReleaseRequests:
                    if (!_closed)
                    {
                        Stash.Stash();
                        break;
                    }

                    _calls.Add(++_seq, new Call(request, Sender) { Sent = true });
                    _closer.Tell(new SupervisedCall(_seq, request, false));
                    break;
                default:
                    Sender.Tell(DiedOfCrashes());
                    break;
            }
        });
        Receive<SupervisedAnswer>(answer =>
        {
            if (!_calls.Remove(answer.Seq, out var call)) return;
            if (call.ReplyTo != ActorRefs.Nobody)
            {
                call.ReplyTo.Tell(answer.Reply);
                PassivateWhenSettled();
                return;
            }

            _closed = true;
            Stash.UnstashAll();
            PassivateWhenSettled();
        });
        Receive<ActorFailureRecorded>(recorded =>
        {
            if (recorded.Id != _incarnation) return;
            _failureRecorded = true;
            _failureReport?.Cancel();
            PassivateWhenSettled();
        });
        Receive<ReportFailure>(_ => _registry?.Tell(new ActorFailed(_key, _incarnation, _restarts, _lastCause)));
        Receive<InjectCrash>(_ => Sender.Tell(DiedOfCrashes()));
        Receive<AccountProbe>(_ => { });
        Receive<AccountStarted>(_ => { });
        Receive<AccountCrashed>(_ => { });
        Receive<Passivate>(_ => { });
        Receive<StopWhenIdle>(_ => Context.Stop(Self));
        Receive<Terminated>(terminated =>
        {
            // The last instance failed (its journal, most likely) before it journaled the close: the calls it
            // holds are told to try again, and the next call starts a fresh entity that reads the journal.
            if (!terminated.ActorRef.Equals(_closer) || _closed) return;
            var retry = new Rejected(ErrorKind.ClusterUnreachable, "JournalUnavailable", $"account '{_key}' could not journal its close; try again");
            foreach (var call in _calls.Values.Where(c => c.ReplyTo != ActorRefs.Nobody)) call.ReplyTo.Tell(retry);
            _calls.Clear();
            Stash.ClearStash();
            Context.Stop(Self);
        });
    }

    private void Track(AccountRequest request, IActorRef replyTo, bool send)
    {
        var call = new Call(request, replyTo);
        _calls.Add(++_seq, call);
        if (send) Send(_seq, call);
    }

    private void Send(long seq, Call call)
    {
        // Reads (a dashboard's, `bank list`'s) do not use up injected crashes: the caller's next change does.
        var crash = call.ReplyTo != ActorRefs.Nobody && _crashesToInject > 0 && call.Request.Command is not GetBalance;
        if (crash) _crashesToInject--;
        call.Sent = true;
        _backoff.Tell(new SupervisedCall(seq, call.Request, crash));
    }

    private void Answered(SupervisedAnswer answer)
    {
        if (_calls.Remove(answer.Seq, out var call))
            call.ReplyTo.Tell(answer.Reply);
        StopIfDrained();
    }

    private void Started(AccountStarted started)
    {
        _supervision = started.Supervision;
        if (started.Incarnation != _incarnation)
        {
            // Another incarnation (opened, or reopened with its own budgets): its restarts count from its journal.
            _incarnation = started.Incarnation;
            _restarts = started.Restarts;
        }

        _restarts = Math.Max(_restarts, started.Restarts);
        Become(Running);
        if (_restarts > started.Restarts)
        {
            // Journaled before the waiting calls are resent, so that the count holds wherever the account wakes next.
            var record = new Call(new AccountRequest(_key, _incarnation, new RecordRestarts(_restarts, _lastCause)), ActorRefs.Nobody);
            _calls.Add(++_seq, record);
            Send(_seq, record);
        }

        if (_restarting)
        {
            _restarting = false;
            _registry?.Tell(new ActorRestartCompleted(_key, _incarnation, _restarts));
        }

        foreach (var (seq, call) in _calls.Where(c => !c.Value.Sent).ToList())
            Send(seq, call);
    }

    private void Crashed(AccountCrashed crashed)
    {
        _lastCause = crashed.Cause;
        if (!_supervision.AllowsRestart(_restarts))
        {
            GiveUp();
            return;
        }

        _restarts++;
        // An injected crash is what its caller asked for; any other is news for whoever runs the node.
        const string template = "Account {Key} crashed ({Cause}); restart {Restarts} of {MaxRestarts} after a backoff";
        var max = Supervision.Describe(_supervision.MaxRestarts);
        if (crashed.Injected) _log.Info(template, _key, crashed.Cause, _restarts, max);
        else _log.Warning(template, _key, crashed.Cause, _restarts, max);
        foreach (var (seq, call) in _calls.Where(c => c.Value.Sent).ToList())
        {
            if (call.ReplyTo == ActorRefs.Nobody)
            {
                // Our own record of restarts: the next start records the new count instead.
                _calls.Remove(seq);
            }
            else if (_supervision.AllowsRetry(call.Retries))
            {
                call.Retries++;
                call.Sent = false;
            }
            else
            {
                _calls.Remove(seq);
                call.ReplyTo.Tell(new Rejected(ErrorKind.ActorDied, "TaskFailed",
                    $"the actor crashed while handling this call ({crashed.Cause}) and max_task_retries={Supervision.Describe(_supervision.MaxTaskRetries)} allows no retry; it was restarted"));
            }
        }

        _restarting = true;
        _registry?.Tell(new ActorRestarting(_key, _incarnation, _restarts, crashed.Cause));
        Become(Restarting);
        StopIfDrained();
    }

    /// <summary>
    /// Restarts are used up: the BackoffSupervisor is stopped before it starts another instance, every waiting call
    /// is answered ActorDied, the close is journaled by a last instance, and the registry records the death.
    /// </summary>
    private void GiveUp()
    {
        _log.Info("Account {Key} crashed ({Cause}) with no restarts left (max_restarts={MaxRestarts}): it is dead",
            _key, _lastCause, Supervision.Describe(_supervision.MaxRestarts));
        Context.Unwatch(_backoff);
        Context.Stop(_backoff);
        var died = DiedOfCrashes();
        foreach (var call in _calls.Values.Where(c => c.ReplyTo != ActorRefs.Nobody))
            call.ReplyTo.Tell(died);
        _calls.Clear();
        _crashesToInject = 0;
        _closed = _failureRecorded = _passivating = false;
        Become(Dead);

        _closer = Context.Watch(Context.ActorOf(AccountActor.PropsFor(_key, _settings), $"closing-{++_generation}"));
        var close = new Call(new AccountRequest(_key, _incarnation, new CloseAccount(MaxRestartsExceeded, _incarnation)), ActorRefs.Nobody);
        _calls.Add(++_seq, close);
        _closer.Tell(new SupervisedCall(_seq, close.Request, false));

        if (_registry is null)
        {
            _failureRecorded = true;
            return;
        }

        // Resent until the registry answers: the death must reach it even across a handover of its singleton.
        _failureReport = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(
            TimeSpan.Zero, TimeSpan.FromSeconds(2), Self, ReportFailure.Instance, Self);
    }

    /// <summary>Passivates once the close is journaled, the registry knows, and no call waits on the last instance.</summary>
    private void PassivateWhenSettled(bool force = false)
    {
        if (!_closed || !_failureRecorded || _passivating || (!force && _calls.Count > 0)) return;
        _passivating = true;
        Context.Parent.Tell(new Passivate(StopWhenIdle.Instance));
    }

    private Rejected DiedOfCrashes() => new(ErrorKind.ActorDied, MaxRestartsExceeded,
        $"the actor of account '{_key}' died: it crashed ({_lastCause}) with no restarts left (max_restarts={Supervision.Describe(_supervision.MaxRestarts)})");

    private void Inject(InjectCrash inject)
    {
        if (!_settings.AllowFaultInjection)
        {
            Sender.Tell(FaultInjectionRefused(_node));
            return;
        }

        _crashesToInject = Math.Max(0, inject.Times);
        Sender.Tell(new CrashInjected(_key, _crashesToInject, _node));
    }

    public static Rejected FaultInjectionRefused(string node) => new(ErrorKind.Usage, "FaultInjectionDisabled",
        $"fault injection is off on node {node}: start the nodes with --allow-fault-injection");

    /// <summary>
    /// The account stopped itself (its journal failed) and the BackoffSupervisor with it: that is not a crash of the
    /// actor. Waiting calls are told to try again (their request ids make that safe) and the entity stops; the next
    /// call starts it afresh from the journal.
    /// </summary>
    private void JournalFailed(Terminated terminated)
    {
        if (!terminated.ActorRef.Equals(_backoff)) return;
        var retry = new Rejected(ErrorKind.ClusterUnreachable, "JournalUnavailable",
            $"account '{_key}' stopped because its journal failed; try again");
        foreach (var call in _calls.Values.Where(c => c.ReplyTo != ActorRefs.Nobody))
            call.ReplyTo.Tell(retry);
        _calls.Clear();
        Context.Stop(Self);
    }

    private sealed class Call(AccountRequest request, IActorRef replyTo)
    {
        public AccountRequest Request { get; } = request;

        public IActorRef ReplyTo { get; } = replyTo;

        public bool Sent { get; set; }

        public int Retries { get; set; }
    }

    /// <summary>How the shard stops an account entity (passivation, hand-off): after the calls in flight are answered.</summary>
    public sealed record StopWhenIdle
    {
        public static readonly StopWhenIdle Instance = new();
    }

    private sealed record ReportFailure
    {
        public static readonly ReportFailure Instance = new();
    }
}

/// <summary>Cluster Sharding routes account messages by their key; the shard is a hash of it.</summary>
public sealed class AccountMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    public override string? EntityId(object message) => message is IAccountEnvelope envelope ? envelope.Key : null;
}

public static class AccountHostingExtensions
{
    /// <summary>Starts the Account shard region on this node, registered as <see cref="AccountRegionKey"/>.</summary>
    public static AkkaConfigurationBuilder WithAccounts(this AkkaConfigurationBuilder builder, string? role = null)
    {
        return builder.WithShardRegion<AccountRegionKey>(
            BankConstants.AccountShardType,
            (system, _, _) =>
            {
                var settings = AccountSettings.From(system);
                return key => AccountSupervisor.PropsFor(key, settings);
            },
            new AccountMessageExtractor(BankHocon.Defaults.GetInt("bank.accounts.number-of-shards", 100)),
            new ShardOptions { Role = role, HandOffStopMessage = AccountSupervisor.StopWhenIdle.Instance });
    }
}
