using Bank.Domain;

namespace Bank.Hosting.Contracts;

/// <summary>
/// What a client may ask of an account, and what it hears when that account is gone: written once, for every path a
/// client call takes (the node's gateway, for ClusterClient and in-process sessions alike, and an in-process session's
/// calls by incarnation). Clients deposit, withdraw and read; opening and closing incarnations is the registry's business.
/// The ids a client chooses are checked here too (<see cref="ClientIds"/>), and its request ids put in the client
/// namespace, so no client call can ever carry an id the system uses for its own steps.
/// </summary>
public static class ClientCallPolicy
{
    public static bool Allows(IAccountCommand command) => command is Deposit or Withdraw or GetBalance;

    /// <summary>Why a client may not send <paramref name="command"/> to an account; null when it may.</summary>
    public static Rejected? Refusal(IAccountCommand command) => Allows(command)
        ? null
        : new Rejected(ErrorKind.Usage, nameof(ErrorKind.Usage), $"{command.GetType().Name} goes through the registry, not straight to an account");

    /// <summary>
    /// The call as an account receives it from a client: null and <paramref name="refused"/> set when a client may not
    /// make it or its request id is no valid client id; else the command with its request id scoped by
    /// <see cref="ClientIds.Scope"/>. Every path of a client's account call passes here, and nothing else scopes ids.
    /// </summary>
    public static AccountRequest? Admit(AccountRequest request, out Rejected? refused) =>
        Admit(request.Command, out refused) is { } command
            // Placement is the registry's to set: a client's call never moves an account.
            ? request with { Command = command, Placement = null }
            : null;

    /// <inheritdoc cref="Admit(AccountRequest, out Rejected?)"/>
    public static NamedAccountRequest? Admit(NamedAccountRequest request, out Rejected? refused) =>
        Admit(request.Command, out refused) is { } command ? request with { Command = command } : null;

    private static IAccountCommand? Admit(IAccountCommand command, out Rejected? refused)
    {
        refused = Refusal(command) ?? (RequestIdOf(command) is { } requestId ? BadId(requestId, "request id") : null);
        if (refused is not null) return null;
        return command switch
        {
            Deposit { RequestId: { } id } deposit => deposit with { RequestId = ClientIds.Scope(id) },
            Withdraw { RequestId: { } id } withdraw => withdraw with { RequestId = ClientIds.Scope(id) },
            _ => command,
        };
    }

    /// <summary>
    /// The refusal of an admitted call whose request id <paramref name="targets"/> (a door's memory) saw go to another
    /// account; null when it did not, and then the id is remembered as this account's.
    /// </summary>
    public static Rejected? ReusedElsewhere(RequestTargets targets, AccountRequest call)
    {
        var requestId = RequestIdOf(call.Command);
        return targets.Claim(requestId, call.Key) is { } key
            ? Rejected.Rule(Rules.IdReused(requestId!, $"a call on account {key}"))
            : null;
    }

    /// <summary>
    /// Why a client's open, kill or transfer may not go on: an id it chose that is no valid client id (null when it may).
    /// Open and kill ids stay the client's own in the registry, transfer ids in their sagas: the system makes none of either.
    /// </summary>
    public static Rejected? IdRefusal(IBankMessage request) => request switch
    {
        TransferMoney transfer => BadId(transfer.TransferId, "transfer id"),
        OpenActor open when open.RequestId is not null => BadId(open.RequestId, "open request id"),
        KillActor kill when kill.RequestId is not null => BadId(kill.RequestId, "kill request id"),
        _ => null,
    };

    private static Rejected? BadId(string? id, string what) =>
        ClientIds.Validate(id, what) is { } problem ? new Rejected(ErrorKind.Usage, "BadId", problem) : null;

    private static string? RequestIdOf(IAccountCommand command) => command switch
    {
        Deposit deposit => deposit.RequestId,
        Withdraw withdraw => withdraw.RequestId,
        _ => null,
    };

    /// <summary>An account's answer that its incarnation is gone: killed, exited, out of restarts, or an earlier one.</summary>
    public static bool IsGone(object answer) => answer is Rejected { Kind: ErrorKind.ActorDied or ErrorKind.ActorNotFound };

    /// <summary>
    /// What a client hears when the incarnation <paramref name="id"/> of <paramref name="name"/> answered
    /// <paramref name="gone"/>: ActorDied, with the account's reason where the call itself failed or used up the restarts.
    /// </summary>
    public static Rejected Gone(string name, string id, Rejected gone) =>
        new(ErrorKind.ActorDied, gone.Code, gone.Code is "TaskFailed" or DeathCauses.MaxRestartsExceeded
            ? $"actor '{name}' ({id}): {gone.Message}"
            : $"actor '{name}' ({id}) is dead");
}
