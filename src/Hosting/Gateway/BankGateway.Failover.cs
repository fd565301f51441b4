using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Bank.Hosting.Contracts;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Gateway;

/// <summary>
/// The gateway's half of a failover: calls it (or a transfer saga on this node) sent to accounts and transfers that lived
/// on a node that died are lost with that node, and nothing would answer them before their timeout. When the node is
/// removed from the cluster, every call still in flight is sent again under its own id (<see cref="InFlightCalls"/>),
/// and the shard region carries it to the account's new home as soon as the coordinator has one.
/// </summary>
public sealed partial class BankGateway
{
    /// <summary>
    /// The second resend after a removal: the shard region learns of the removal from the same event as the gateway, and a
    /// resend it handles before that still goes to the dead node; one more, a moment later, goes to the new home.
    /// </summary>
    private static readonly TimeSpan SecondResendAfter = TimeSpan.FromSeconds(1);

    private readonly InFlightCalls _inFlight = InFlightCalls.For(Context.System);

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void ReceiveFailover()
    {
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            var sent = _inFlight.ResendAll();
            _log.Info("{0} was removed from the cluster: {1} call(s) in flight sent again", removed.Member.Address, sent);
            Timers.StartSingleTimer(ResendInFlight.Instance, ResendInFlight.Instance, SecondResendAfter);
        });
        Receive<ResendInFlight>(_ => _inFlight.ResendAll());
    }

    /// <summary>
    /// Asks <paramref name="target"/> on <paramref name="replyTo"/>'s behalf, as a call that is sent again on a removal,
    /// and counts the call's outcome (<see cref="BankMetrics"/>).
    /// </summary>
    private void AnswerWhenAnswered(IActorRef target, object request, IActorRef replyTo, TimeSpan timeout)
    {
        var (started, kind) = (Stopwatch.GetTimestamp(), BankMetrics.KindOf(request));
        _ = AnswerAsync(_inFlight);

        async Task AnswerAsync(InFlightCalls inFlight)
        {
            object answer;
            try
            {
                answer = await inFlight.RequestAsync(target, request, timeout);
            }
            catch (Exception)
            {
                // No answer: the client hears silence and sends the same id again, as when its message was lost.
                BankMetrics.RecordCall(kind, BankMetrics.NoAnswer, started);
                return;
            }

            BankMetrics.RecordCall(kind, BankMetrics.OutcomeOf(answer), started);
            replyTo.Tell(answer);
        }
    }

    /// <summary>Answers a request the gateway refuses itself, counting the refusal.</summary>
    private void Refuse(object request, Rejected refusal)
    {
        BankMetrics.RecordCall(BankMetrics.KindOf(request), refusal.Code, Stopwatch.GetTimestamp());
        Sender.Tell(refusal);
    }

    private sealed class ResendInFlight
    {
        public static readonly ResendInFlight Instance = new();
    }
}
