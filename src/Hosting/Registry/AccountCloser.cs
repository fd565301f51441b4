using Akka.Actor;
using Akka.Event;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Gateway;

namespace Bank.Hosting.Registry;

/// <summary>
/// Ends incarnations in the accounts' own journals for the registry. A close names the incarnation, so a late one never
/// ends a newer holder of the key. A failure is logged: the registry has decided, and the stale id is refused anyway
/// once the key is reopened.
/// </summary>
internal sealed class AccountCloser(InFlightCalls calls, IActorRef accounts, TimeSpan timeout, ILoggingAdapter log)
{
    public Task CloseAllAsync(IReadOnlyList<AccountToClose> closes) =>
        closes.Count == 0 ? Task.CompletedTask : Task.WhenAll(closes.Select(Close));

    private Task Close(AccountToClose close)
    {
        var closing = calls.CallAsync(accounts, new AccountRequest(close.Key, close.Id, new CloseAccount(close.Cause, close.Id)), timeout);
        return ConfirmAsync();

        // Runs off the actor's thread: it touches no actor state, only the captured logger.
        async Task ConfirmAsync()
        {
            string? problem;
            try
            {
                problem = (await closing as Rejected)?.Message;
            }
            catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
            {
                problem = e.Message;
            }

            if (problem is not null)
                log.Warning("Account {Key} of actor {Name} did not confirm its close: {Reason}", close.Key, close.Name, problem);
        }
    }
}
