using Akka.Actor;
using Akka.Event;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Door;

/// <summary>
/// The one actor of a node's client door (<see cref="BankConstants.DoorPath"/> in the door's actor system): every request
/// must come as <see cref="Credentialed"/>, with a credential that <paramref name="verify"/> grants a role for, and of a
/// type <see cref="DoorPolicy"/> lets that role send. What passes goes to the node's gateway through a response tunnel
/// in the cluster system (<see cref="DoorTunnels"/>); the door itself never reaches the cluster over the network.
/// </summary>
public sealed class DoorReceptionist : ReceiveActor
{
    public DoorReceptionist(Func<string, DoorAccess> verify, IActorRef tunnels)
    {
        var log = Context.GetLogger();
        Receive<Credentialed>(request =>
        {
            var granted = verify(request.Credential);
            var refusal = granted == DoorAccess.Refused
                ? Rejected.Unauthorized("the credential is not valid for this cluster: use the files `bank cert issue` made for a client or an admin")
                : DoorPolicy.Refusal(granted, request.Request);
            if (refusal is null)
            {
                tunnels.Tell(new DoorTunnels.Relay(Sender, request.Request));
                return;
            }

            log.Warning("door refused {Request} from {Sender}: {Why}", request.Request.GetType().Name, Sender.Path.Address, refusal.Message);
            Sender.Tell(Answer(request.Request, refusal));
        });
        ReceiveAny(unwrapped =>
        {
            log.Warning("door refused {Request} from {Sender}: no credential", unwrapped.GetType().Name, Sender.Path.Address);
            Sender.Tell(Answer(unwrapped, Rejected.Unauthorized(
                "requests through a node's client door carry a credential: give --tls DIR (made with `bank cert issue`)")));
        });
    }

    public static Props PropsFor(Func<string, DoorAccess> verify, IActorRef tunnels) =>
        Props.Create(() => new DoorReceptionist(verify, tunnels));

    /// <summary>The refusal as its caller waits for it: a correlated account call hears it under its correlation id.</summary>
    private static object Answer(object request, Rejected refusal) => request switch
    {
        CorrelatedAccountRequest call => new CorrelatedAccountReply(call.Id, null, refusal),
        CorrelatedNamedAccountRequest call => new CorrelatedAccountReply(call.Id, null, refusal),
        _ => refusal,
    };
}
