using Akka.Actor;
using Akka.Event;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Door;

/// <summary>
/// The one actor of a node's client door (<see cref="BankConstants.DoorPath"/> in the door's actor system): every request
/// must come as <see cref="Credentialed"/>, with a credential that <paramref name="verify"/> grants a role for, and of a
/// type <see cref="DoorPolicy"/> lets that role send. What passes goes to the node's gateway through a response tunnel
/// in the cluster system (<see cref="DoorTunnels"/>); the door itself never reaches the cluster over the network.
/// It answers only senders connected to the door (<see cref="DoorPeers"/>): the door never dials out.
/// </summary>
public sealed class DoorReceptionist : ReceiveActor, IWithTimers
{
    /// <summary>How long a request waits for its sender's connection to be seen (the event may trail the first message).</summary>
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromMilliseconds(100);
    private const int Rechecks = 10;

    /// <summary>Requests waiting for their sender's connection at once; past it one from a sender not connected is dropped.</summary>
    private const int MaxWaiting = 1024;

    private readonly RefusalLog _refusals;
    private long _rechecks;
    private int _waiting;

    public DoorReceptionist(Func<string, DoorAccess> verify, IActorRef tunnels, DoorPeers peers)
    {
        _refusals = new RefusalLog(Context.GetLogger());
        Receive<Pending>(Check);
        Receive<RefusalLog.Tick>(_ => _refusals.Summarize());
        ReceiveAny(request => Check(new Pending(request, Sender, 0)));

        void Check(Pending pending)
        {
            var connected = peers.Connected(pending.Sender);
            if (pending.Attempt > 0 && (connected || pending.Attempt >= Rechecks)) _waiting--;
            if (connected) Handle(pending.Request, pending.Sender);
            else if (pending.Attempt < Rechecks && (pending.Attempt > 0 || _waiting++ < MaxWaiting))
                Timers.StartSingleTimer(++_rechecks, pending with { Attempt = pending.Attempt + 1 }, RecheckEvery);
            else
            {
                if (pending.Attempt == 0) _waiting--;
                peers.Drop();
                _refusals.Dropped();
            }
        }

        void Handle(object message, IActorRef sender)
        {
            if (message is not Credentialed request)
            {
                Refuse(message, sender, Rejected.Unauthorized(
                    "requests through a node's client door carry a credential: give --tls DIR (made with `bank cert issue`)"));
                return;
            }

            var granted = verify(request.Credential);
            var refusal = granted == DoorAccess.Refused
                ? Rejected.Unauthorized("the credential is not valid for this cluster: use the files `bank cert issue` made for a client or an admin")
                : DoorPolicy.Refusal(granted, request.Request);
            if (refusal is null) tunnels.Tell(new DoorTunnels.Relay(sender, request.Request));
            else Refuse(request.Request, sender, refusal);
        }

        void Refuse(object request, IActorRef sender, Rejected refusal)
        {
            _refusals.Refused(request, sender.Path.Address, refusal.Message);
            sender.Tell(Answer(request, refusal), ActorRefs.NoSender);
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Timers.StartPeriodicTimer(RefusalLog.Tick.Instance, RefusalLog.Tick.Instance, RefusalLog.Every);

    public static Props PropsFor(Func<string, DoorAccess> verify, IActorRef tunnels, DoorPeers peers) =>
        Props.Create(() => new DoorReceptionist(verify, tunnels, peers));

    /// <summary>The refusal as its caller waits for it: a correlated account call hears it under its correlation id.</summary>
    internal static object Answer(object request, Rejected refusal) => request switch
    {
        CorrelatedAccountRequest call => new CorrelatedAccountReply(call.Id, null, refusal),
        CorrelatedNamedAccountRequest call => new CorrelatedAccountReply(call.Id, null, refusal),
        _ => refusal,
    };

    /// <summary>A request whose sender must be a connected client before the door answers it.</summary>
    private sealed record Pending(object Request, IActorRef Sender, int Attempt);
}

/// <summary>
/// The door's warnings about refused requests, rate-limited: the first refusal of each client address in a minute is
/// logged in full, the rest (and requests dropped for a sender not connected) are counted in one line a minute.
/// </summary>
internal sealed class RefusalLog(ILoggingAdapter log)
{
    public static readonly TimeSpan Every = TimeSpan.FromMinutes(1);

    /// <summary>Client addresses remembered per minute; past it every refusal is only counted.</summary>
    private const int Remembered = 1024;

    private readonly HashSet<Address> _logged = [];
    private long _refused;
    private long _dropped;

    public void Refused(object request, Address client, string why)
    {
        if (_logged.Count < Remembered && _logged.Add(client))
            log.Warning("door refused {0} from {1}: {2}", request.GetType().Name, client, why);
        else _refused++;
    }

    public void Dropped() => _dropped++;

    public void Summarize()
    {
        if (_refused > 0 || _dropped > 0)
            log.Warning("door refused {0} more requests and dropped {1} from senders not connected to it in the last minute", _refused, _dropped);
        _logged.Clear();
        (_refused, _dropped) = (0, 0);
    }

    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
