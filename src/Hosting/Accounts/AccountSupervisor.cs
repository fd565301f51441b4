using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Pattern;
using Bank.Domain;
using Bank.Hosting.Configuration;
using Bank.Hosting.Contracts;

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
/// <para>
/// An incarnation that holds resources (Ray's num_cpus, num_gpus, memory) runs where the registry placed it: the
/// instance is started there by that node's <see cref="AccountHost"/> and watched from here, so the entity stays the
/// one writer of the account wherever its instance runs. When that node leaves, the instance moves to the node the
/// registry places it on next (calls wait, and are resent with their ids); while no node fits, the account is
/// PENDING_CREATION and calls fail after the pending timeout.
/// </para>
/// </summary>
public sealed class AccountSupervisor : UntypedActor, IWithUnboundedStash
{
    private const string MaxRestartsExceeded = DeathCauses.MaxRestartsExceeded;

    private ILoggingAdapter? _log;
    // An untyped actor: a node holds one per live account, and a ReceiveActor would build a handler and a delegate per
    // message type in every instance, for each behaviour. The behaviour is this mode.
    private Mode _mode = Mode.Restarting;
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
    private bool _passivationAsked;
    private ICancelable? _failureReport;
    // Timers of the rare waits (a host starting the instance, the registry placing it), made when used: Akka's timer
    // scheduler would cost every live account a scheduler and a dictionary. A late tick is recognised by its handler.
    private ICancelable? _hostTimer;
    private ICancelable? _placementTimer;
    // Placement: where the instance runs, where it must run, and what the registry said.
    private string _instanceNode = string.Empty;
    private bool _instanceReady;
    private bool _stoppingInstance;
    private bool _holdsResources;
    private bool _placementKnown;
    private string? _placement;
    private (DateTimeOffset Since, string Reason)? _placementPending;
    // Since when the registry was asked where to run without an answer: calls do not wait on it for ever either.
    private DateTimeOffset? _askingSince;
    // The node whose host said it is shutting down and released our instance: it must not be chosen again.
    private string? _released;

    public AccountSupervisor(string key, AccountSettings settings)
    {
        _key = key;
        _settings = settings;
        _node = settings.Node;
    }

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    /// <summary>What the entity does with a message: see <see cref="Alive"/> and <see cref="Dead"/>.</summary>
    private enum Mode
    {
        Running,
        Restarting,
        Dead,
    }

    protected override void OnReceive(object message)
    {
        var handled = _mode == Mode.Dead ? Dead(message) : Alive(message);
        if (!handled) Unhandled(message);
    }

    public IStash Stash { get; set; } = null!;

    public static Props PropsFor(string key, AccountSettings settings) => settings.PropsOf<AccountSupervisor>(key, settings);

    protected override void PreStart()
    {
        ActorRegistry.For(Context.System).TryGet<NameRegistryKey>(out _registry);
        // The instance starts with the first message (Restarting): an open from the registry may say where it must run.
    }

    protected override void PostStop()
    {
        _failureReport?.Cancel();
        _hostTimer?.Cancel();
        _placementTimer?.Cancel();
        // An instance on another node is no child of ours: it is stopped by hand (its host also stops it when we die).
        if (IsRemote(_backoff)) _backoff.Tell(PoisonPill.Instance);
    }

    private bool IsRemote(IActorRef instance) => !instance.IsNobody() && _instanceNode != _node;

    // The BackoffSupervisor and the account instance that closes a dead incarnation are stopped, never restarted, by us.
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    /// <summary>
    /// A BackoffSupervisor over an account instance that reports to <paramref name="supervisor"/>: its strategy tells
    /// the supervisor of every crash. Started here, or on the node the account is placed on by its <see cref="AccountHost"/>.
    /// </summary>
    public static Props InstancePropsFor(string key, AccountSettings settings, IActorRef supervisor)
    {
        var options = Backoff.OnFailure(
                AccountActor.PropsFor(key, settings, supervisor), "account",
                settings.MinBackoff, settings.MaxBackoff, settings.RandomFactor, maxNrOfRetries: -1)
            .WithSupervisorStrategy(new OneForOneStrategy(-1, -1, cause =>
            {
                // Runs in the BackoffSupervisor; telling is safe from anywhere and keeps the order of this instance's start.
                supervisor.Tell(new AccountCrashed($"{cause.GetType().Name}: {cause.Message}", cause is InjectedCrash));
                return Directive.Restart;
            }, loggingEnabled: false));
        return settings.WithMailbox(BackoffSupervisor.Props(options));
    }

    /// <summary>Starts the instance on <paramref name="node"/>: a child here, or through that node's host.</summary>
    private void StartInstance(string node)
    {
        _instanceNode = node;
        _instanceReady = false;
        _generation++;
        if (node == _node)
        {
            _backoff = Context.Watch(Context.ActorOf(InstancePropsFor(_key, _settings, Self), $"backoff-{_generation}"));
            return;
        }

        _backoff = ActorRefs.Nobody;
        Context.ActorSelection(AccountHost.PathOn(node)).Tell(new HostAccount(_key, _generation));
        _hostTimer?.Cancel();
        _hostTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(_settings.AskTimeout, Self, new HostTimedOut(_generation), Self);
    }

    /// <summary>The host on the placed node started the instance (the sender).</summary>
    private void Hosted(AccountHosted hosted)
    {
        if (hosted.Generation != _generation || !_backoff.IsNobody())
        {
            // An instance we no longer wait for (its start timed out, or we asked again): it must not live on.
            if (!Sender.Equals(_backoff)) Sender.Tell(PoisonPill.Instance);
            return;
        }

        _hostTimer?.Cancel();
        _backoff = Context.Watch(Sender);
        Stash.UnstashAll();
    }

    /// <summary>
    /// The placed node did not answer. While it is Up, it is asked again; once it is gone, the account is placed again
    /// (when its incarnation is known to hold resources), or the calls waiting for it are told to try again: an open
    /// the registry placed there must never run anywhere else.
    /// </summary>
    private void HostTimeout(HostTimedOut timedOut)
    {
        if (timedOut.Generation != _generation || !_backoff.IsNobody()) return;
        if (IsUp(_instanceNode) && !_draining)
        {
            Log.Info("Account {Key}: node {Node} did not start its instance yet; asking it again", _key, _instanceNode);
            StartInstance(_instanceNode);
            return;
        }

        LostPlacement($"the node chosen for account '{_key}' ({_instanceNode}) is gone");
    }

    /// <summary>The node the account was to run on is gone before its instance ran there.</summary>
    private void LostPlacement(string why)
    {
        _instanceNode = string.Empty;
        _placement = null;
        _placementKnown = false;
        if (!_holdsResources)
        {
            // Not known to hold resources: a placed open whose node went away. Its caller (the registry) tries again.
            var retry = new Rejected(ErrorKind.ClusterUnreachable, "PlacementLost", $"{why}; try again");
            foreach (var (seq, call) in _calls.Where(c => !c.Value.Sent).ToList())
            {
                _calls.Remove(seq);
                if (call.ReplyTo != ActorRefs.Nobody) call.ReplyTo.Tell(retry);
            }

            Behave(Mode.Restarting);
            StopIfDrained();
            return;
        }

        Behave(Mode.Restarting);
        Settle();
    }

    private void StopInstance()
    {
        _stoppingInstance = true;
        if (IsRemote(_backoff)) _backoff.Tell(PoisonPill.Instance);
        else Context.Stop(_backoff);
    }

    /// <summary>
    /// Decides what the account needs next: to learn where it runs (it holds resources), an instance there, a move
    /// there once the calls in flight are answered, or nothing: then it runs and the waiting calls go.
    /// </summary>
    private void Settle()
    {
        if (_draining)
        {
            // Stopping (passivation, hand-off): no start, ask or move, but calls waiting for a ready instance still go.
            if (!_backoff.IsNobody() && _instanceReady && !_restarting && (_placement ?? _node) == _instanceNode) SendWaiting();
            return;
        }

        if (_holdsResources && !_placementKnown)
        {
            AskWhereToRun();
            return;
        }

        if (_placementPending is not null) return;
        var target = _placement ?? _node;
        if (_backoff.IsNobody())
        {
            if (_instanceNode.Length == 0) StartInstance(target);
            return;
        }

        if (target != _instanceNode)
        {
            if (_stoppingInstance || _calls.Values.Any(c => c.Sent)) return;
            Log.Info("Account {Key} moves from {From} to {To}", _key, _instanceNode, target);
            StopInstance();
            return;
        }

        if (!_instanceReady || _restarting) return;
        SendWaiting();
    }

    private void Behave(Mode mode) => _mode = mode;

    private void SendWaiting()
    {
        Behave(Mode.Running);
        foreach (var (seq, call) in _calls.Where(c => !c.Value.Sent).ToList())
            Send(seq, call);
        Stash.UnstashAll();
    }

    private void AskWhereToRun()
    {
        if (_registry is null)
        {
            _placementKnown = true;
            Settle();
            return;
        }

        _askingSince ??= DateTimeOffset.UtcNow;
        _registry.Tell(new WhereToRun(_key, _incarnation, _released));
        _placementTimer?.Cancel();
        _placementTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromSeconds(1), Self, AskPlacementAgain.Instance, Self);
    }

    private void Placed(RunAt runAt)
    {
        if (runAt.Incarnation == _incarnation && !_placementKnown) PlacementLearned(runAt.Node);
    }

    private void NotPlaced(NotPlaced notPlaced)
    {
        if (notPlaced.Incarnation == _incarnation && !_placementKnown) PlacementLearned(null);
    }

    /// <summary>The registry said where the incarnation runs (null: it holds no placement, so anywhere).</summary>
    private void PlacementLearned(string? node)
    {
        _placementTimer?.Cancel();
        _askingSince = null;
        _released = null;
        _placementKnown = true;
        _placementPending = null;
        _placement = node;
        Settle();
    }

    /// <summary>No node has the account's resources free: calls wait until the pending timeout, then fail.</summary>
    private void Pending(PlacementPending pending)
    {
        if (pending.Incarnation != _incarnation || _placementKnown) return;
        _askingSince = null;
        _placementPending = (pending.Since, pending.Reason);
        FailCallsIfPendingTooLong();
    }

    private void FailCallsIfPendingTooLong()
    {
        var (since, reason) = _placementPending ?? (_askingSince is { } asking
            ? (asking, $"the registry did not say where account '{_key}' runs within {_settings.PendingTimeout.TotalSeconds:0.#} s")
            : (DateTimeOffset.MaxValue, string.Empty));
        if (DateTimeOffset.UtcNow - since < _settings.PendingTimeout) return;
        var pending = new Rejected(ErrorKind.ClusterUnreachable, "PendingCreation", reason);
        foreach (var (seq, call) in _calls.Where(c => !c.Value.Sent && c.Value.ReplyTo != ActorRefs.Nobody).ToList())
        {
            _calls.Remove(seq);
            call.ReplyTo.Tell(pending);
        }

        StopIfDrained();
    }

    /// <summary>
    /// The instance stopped: because we moved it, or because its node is gone (then the account is placed again and
    /// the calls it had are resent there with their ids), or because its journal failed.
    /// </summary>
    private void InstanceStopped(Terminated terminated)
    {
        if (!terminated.ActorRef.Equals(_backoff)) return;
        var lostNode = _instanceNode != _node && (terminated.AddressTerminated || !IsUp(_instanceNode));
        if (!_stoppingInstance && !lostNode)
        {
            JournalFailed(terminated);
            return;
        }

        if (lostNode && !_stoppingInstance)
            Log.Info("Account {Key} lost its node {Node}; it is placed again", _key, _instanceNode);
        _backoff = ActorRefs.Nobody;
        _instanceReady = false;
        _stoppingInstance = false;
        _instanceNode = string.Empty;
        foreach (var (seq, call) in _calls.ToList())
        {
            if (call.ReplyTo == ActorRefs.Nobody && call.Request.Command is RecordRestarts) _calls.Remove(seq);
            else call.Sent = false;
        }

        if (lostNode || _released is not null)
        {
            _placementKnown = false;
            _placement = null;
            if (!_holdsResources && !_draining)
            {
                LostPlacement("the node the account ran on is gone");
                return;
            }
        }

        Behave(Mode.Restarting);
        if (_draining)
        {
            // Passivating or handed off: the next entity answers from the journal; the callers resend with their ids.
            var retry = new Rejected(ErrorKind.ClusterUnreachable, "Moving", $"account '{_key}' is moving; try again");
            foreach (var call in _calls.Values.Where(c => c.ReplyTo != ActorRefs.Nobody)) call.ReplyTo.Tell(retry);
            _calls.Clear();
            StopIfDrained();
            return;
        }

        Settle();
    }

    /// <summary>
    /// Reports come from the current BackoffSupervisor (crashes) or its account (starts); one from an instance we moved
    /// away from, arriving late, is not about the instance that runs now.
    /// </summary>
    private bool FromCurrentInstance() =>
        !_backoff.IsNobody() && (Sender.Equals(_backoff) || Sender.Path.Parent.Equals(_backoff.Path));

    private bool IsUp(string node) =>
        Cluster.Get(Context.System).State.Members.Any(m => m.Status == MemberStatus.Up && m.Address.ToString() == node);

    /// <summary>
    /// Running: calls go to the instance as they come. Restarting: calls wait, for the instance to start, to restart
    /// after a crash, to move, or for a node to place it on; they are not in flight, so they use none of their retries.
    /// </summary>
    private bool Alive(object message)
    {
        var running = _mode == Mode.Running;
        switch (message)
        {
            case AccountRequest request:
                Place(request);
                Track(request, Sender, send: running && (_placement ?? _node) == _instanceNode);
                if (!running) FailCallsIfPendingTooLong();
                Settle();
                return true;
            case SupervisedAnswer answer:
                Answered(answer);
                return true;
            case AccountStarted started:
                // An instance on another node may report before its host does: it waits until we know it.
                if (!running && _backoff.IsNobody()) Stash.Stash();
                else if (FromCurrentInstance()) Started(started);
                return true;
            case AccountCrashed crashed:
                if (running && FromCurrentInstance()) Crashed(crashed);
                return true;
            default:
                return Placement(message);
        }
    }

    /// <summary>What a running or restarting entity handles alike: probes, passivation, placement and its instance's end.</summary>
    private bool Placement(object message)
    {
        switch (message)
        {
            case InjectCrash inject:
                Inject(inject);
                return true;
            case AccountProbe probe:
                if (!_backoff.IsNobody() && _instanceReady)
                {
                    _backoff.Forward(probe);
                    return true;
                }

                // Asked before the instance runs: it starts, and the probe goes to it then.
                Stash.Stash();
                Settle();
                return true;
            case Passivate or AccountInstanceDone:
                AskToPassivate();
                return true;
            case StopWhenIdle:
                Drain();
                return true;
            case AccountHosted hosted:
                Hosted(hosted);
                return true;
            case HostTimedOut timedOut:
                HostTimeout(timedOut);
                return true;
            case RunAt runAt:
                Placed(runAt);
                return true;
            case NotPlaced notPlaced:
                NotPlaced(notPlaced);
                return true;
            case PlacementPending pending:
                Pending(pending);
                return true;
            case AskPlacementAgain:
                if (_placementKnown || _draining) return true;
                FailCallsIfPendingTooLong();
                AskWhereToRun();
                return true;
            case AccountInstanceReleased released:
                // The instance's node is shutting down: its host stops the instance, and the account moves elsewhere.
                if (released.Node != _instanceNode || _backoff.IsNobody() || _stoppingInstance) return true;
                _released = released.Node;
                StopInstance();
                return true;
            case Terminated terminated:
                InstanceStopped(terminated);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The registry opens a placed account with the node it chose (an open without one runs anywhere): the instance
    /// moves there before the open is handled.
    /// </summary>
    private void Place(AccountRequest request)
    {
        if (request.Command is not OpenAccount) return;
        _placement = request.Placement;
        _placementKnown = true;
        _placementPending = null;
        if (request.Placement is null) _holdsResources = false;
    }

    private void AskToPassivate()
    {
        _passivationAsked = true;
        Context.Parent.Tell(new Passivate(StopWhenIdle.Instance));
    }

    /// <summary>
    /// Passivation or a hand-off: the shard holds new calls meanwhile; the calls already passed to the account are
    /// answered first, then the entity stops. Stopping at once would drop them with the account's mailbox.
    /// </summary>
    private void Drain()
    {
        _draining = true;
        if (_placementPending is not null || (_holdsResources && !_placementKnown) || _backoff.IsNobody()
            || (_placement ?? _node) != _instanceNode)
        {
            // Waiting for a node or a move: these calls never reached the account. When we asked to passivate, the
            // shard holds calls for the next entity, so they go back to it; on a hand-off their callers resend them.
            var retry = new Rejected(ErrorKind.ClusterUnreachable, "Moving", $"account '{_key}' is moving; try again");
            foreach (var (seq, call) in _calls.Where(c => !c.Value.Sent).ToList())
            {
                _calls.Remove(seq);
                if (call.ReplyTo == ActorRefs.Nobody) continue;
                if (_passivationAsked) Context.Parent.Tell(call.Request, call.ReplyTo);
                else call.ReplyTo.Tell(retry);
            }
        }

        StopIfDrained();
    }

    private void StopIfDrained()
    {
        if (_draining && _calls.Count == 0) Context.Stop(Self);
    }

    /// <summary>No restarts left: every call is answered ActorDied while the journal and the registry learn of it.</summary>
    private bool Dead(object message)
    {
        switch (message)
        {
            case AccountRequest request:
                DeadRequest(request);
                return true;
            case SupervisedAnswer answer:
                if (!_calls.Remove(answer.Seq, out var call)) return true;
                if (call.ReplyTo != ActorRefs.Nobody)
                {
                    call.ReplyTo.Tell(answer.Answer);
                    PassivateWhenSettled();
                    return true;
                }

                _closed = true;
                Stash.UnstashAll();
                PassivateWhenSettled();
                return true;
            case ActorFailureRecorded recorded:
                if (recorded.Id != _incarnation) return true;
                _failureRecorded = true;
                _failureReport?.Cancel();
                PassivateWhenSettled();
                return true;
            case ReportFailure:
                _registry?.Tell(new ActorFailed(_key, _incarnation, _restarts, _lastCause));
                return true;
            case InjectCrash:
                Sender.Tell(DiedOfCrashes());
                return true;
            case StopWhenIdle:
                Context.Stop(Self);
                return true;
            case AccountHosted:
                // Placement news for the incarnation that died: an instance a host started late is stopped.
                Sender.Tell(PoisonPill.Instance);
                return true;
            case AccountProbe or AccountStarted or AccountCrashed or Passivate or AccountInstanceDone or RunAt or Contracts.NotPlaced
                or PlacementPending or AskPlacementAgain or HostTimedOut:
                return true;
            case Terminated terminated:
                // The last instance failed (its journal, most likely) before it journaled the close: the calls it
                // holds are told to try again, and the next call starts a fresh entity that reads the journal.
                if (!terminated.ActorRef.Equals(_closer) || _closed) return true;
                var retry = new Rejected(ErrorKind.ClusterUnreachable, "JournalUnavailable", $"account '{_key}' could not journal its close; try again");
                foreach (var waiting in _calls.Values.Where(c => c.ReplyTo != ActorRefs.Nobody)) waiting.ReplyTo.Tell(retry);
                _calls.Clear();
                Stash.ClearStash();
                Context.Stop(Self);
                return true;
            default:
                return false;
        }
    }

    private void DeadRequest(AccountRequest request)
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
            call.ReplyTo.Tell(answer.Answer);
        StopIfDrained();
        // A move waits for the calls in flight.
        if (!_backoff.IsNobody() && (_placement ?? _node) != _instanceNode) Settle();
    }

    private void Started(AccountStarted started)
    {
        _instanceReady = true;
        _holdsResources = started.Resources is not null;
        _supervision = started.Supervision;
        if (started.Incarnation != _incarnation)
        {
            // Another incarnation (opened, or reopened with its own budgets): its restarts count from its journal.
            _incarnation = started.Incarnation;
            _restarts = started.Restarts;
        }

        _restarts = Math.Max(_restarts, started.Restarts);
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

        Settle();
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
        if (crashed.Injected) Log.Info(template, _key, crashed.Cause, _restarts, max);
        else Log.Warning(template, _key, crashed.Cause, _restarts, max);
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
        Behave(Mode.Restarting);
        StopIfDrained();
    }

    /// <summary>
    /// Restarts are used up: the BackoffSupervisor is stopped before it starts another instance, every waiting call
    /// is answered ActorDied, the close is journaled by a last instance, and the registry records the death.
    /// </summary>
    private void GiveUp()
    {
        Log.Info("Account {Key} crashed ({Cause}) with no restarts left (max_restarts={MaxRestarts}): it is dead",
            _key, _lastCause, Supervision.Describe(_supervision.MaxRestarts));
        Context.Unwatch(_backoff);
        if (IsRemote(_backoff)) _backoff.Tell(PoisonPill.Instance);
        else if (!_backoff.IsNobody()) Context.Stop(_backoff);
        _backoff = ActorRefs.Nobody;
        var died = DiedOfCrashes();
        foreach (var call in _calls.Values.Where(c => c.ReplyTo != ActorRefs.Nobody))
            call.ReplyTo.Tell(died);
        _calls.Clear();
        _crashesToInject = 0;
        _closed = _failureRecorded = _passivating = false;
        Behave(Mode.Dead);

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

    private sealed record HostTimedOut(int Generation);

    private sealed record AskPlacementAgain
    {
        public static readonly AskPlacementAgain Instance = new();
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
