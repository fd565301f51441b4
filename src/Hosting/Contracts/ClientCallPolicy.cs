using Bank.Domain;

namespace Bank.Hosting.Contracts;

/// <summary>
/// What a client may ask of an account, and what it hears when that account is gone: written once, for every path a
/// client call takes (the node's gateway, for ClusterClient and in-process sessions alike, and an in-process session's
/// calls by incarnation). Clients deposit, withdraw and read; opening and closing incarnations is the registry's business.
/// </summary>
public static class ClientCallPolicy
{
    public static bool Allows(IAccountCommand command) => command is Deposit or Withdraw or GetBalance;

    /// <summary>Why a client may not send <paramref name="command"/> to an account; null when it may.</summary>
    public static Rejected? Refusal(IAccountCommand command) => Allows(command)
        ? null
        : new Rejected(ErrorKind.Usage, nameof(ErrorKind.Usage), $"{command.GetType().Name} goes through the registry, not straight to an account");

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
