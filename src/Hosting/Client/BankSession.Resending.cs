using System.Diagnostics;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Client;

public sealed partial class BankSession
{
    /// <summary>
    /// The resends of one operation whose first attempt got silence or a "try again" answer: the same message again
    /// (carrying its age, so an account can refuse an id it may have forgotten), 50 ms doubling to 1 s after each refusal,
    /// until the retry deadline. Then it fails with ClusterUnreachable when every attempt was certainly not done (or the
    /// operation is a read), else OutcomeUnknown naming the id to resend (<see cref="RetryPolicy"/>).
    /// </summary>
    private sealed class Resender(BankSession session, IBankMessage request, long firstSent)
    {
        private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
        private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

        private bool _maybeDone;

        public async Task<object> RunAsync(object? answer, BankException? silence, CancellationToken cancellationToken)
        {
            var deadline = session._gateway.RetryDeadline;
            var backoff = FirstBackoff;
            Note(answer, silence);
            while (true)
            {
                var left = deadline - Stopwatch.GetElapsedTime(firstSent);
                if (left <= TimeSpan.Zero) break;
                if (answer is not null)
                {
                    // A refusal comes back at once: pause before asking again, less than what is left.
                    await Task.Delay(backoff < left ? backoff : left, cancellationToken);
                    backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
                    left = deadline - Stopwatch.GetElapsedTime(firstSent);
                    if (left <= TimeSpan.Zero) break;
                }

                // The last attempt waits no longer than the deadline: a timer only on this path, never on the first send.
                using var last = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                last.CancelAfter(left);
                try
                {
                    answer = await session.AttemptAsync(Aged(request, Stopwatch.GetElapsedTime(firstSent)), last.Token);
                    silence = null;
                }
                catch (BankException unanswered) when (IsSilence(unanswered))
                {
                    (answer, silence) = (null, unanswered);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The deadline struck mid-attempt: the call went out and got no answer.
                    (answer, silence) = (null, new BankException(ErrorKind.ClusterUnreachable, "Timeout", "no answer from the cluster"));
                }

                if (answer is not null && !RetryPolicy.IsTryAgain(answer)) return Final(request, answer);
                Note(answer, silence);
            }

            throw Failure(answer as Rejected, silence, deadline);
        }

        /// <summary>Silence after sending, or a "maybe done" code: the operation may have been applied.</summary>
        private void Note(object? answer, BankException? silence) =>
            _maybeDone |= silence is not null || answer is Rejected refused && !RetryPolicy.IsCertainlyNotDone(refused.Code);

        private BankException Failure(Rejected? refused, BankException? silence, TimeSpan deadline)
        {
            var (code, message) = refused is not null ? (refused.Code, refused.Message) : (silence!.Code, silence.Message);
            if (!_maybeDone || RetryPolicy.IdOf(request) is not { } id)
                return new BankException(ErrorKind.ClusterUnreachable, code, $"{message} (resent for {deadline.TotalSeconds:0.#} s)");
            // The age an account weighs a resend by crosses processes as a wall-clock time; read only on this failure path.
            // To the second, rounded down: a resend from the printed time is never younger than the first send was.
            var firstSentAt = FirstSentAge(request) is { } age ? ToTheSecond(DateTimeOffset.UtcNow - age - Stopwatch.GetElapsedTime(firstSent)) : (DateTimeOffset?)null;
            var resend = firstSentAt is { } at ? $"--id {id} --first-sent {at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}" : $"--id {id}";
            return new BankException(ErrorKind.OutcomeUnknown, code,
                $"no answer for {Operation(request)} '{id}' within {deadline.TotalSeconds:0.#} s ({message}): it may have been applied; " +
                $"resend it with {resend}", id) { FirstSent = firstSentAt };
        }

        private static DateTimeOffset ToTheSecond(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

        private static string Operation(IBankMessage request) => request switch
        {
            AccountRequest call => Operation(call.Command),
            NamedAccountRequest call => Operation(call.Command),
            TransferMoney => "transfer",
            OpenActor => "open",
            KillActor => "kill",
            _ => "request",
        };

        private static string Operation(IAccountCommand command) => command is Withdraw ? "withdraw" : "deposit";

        /// <summary>The same message again, telling the account how long ago its id was first sent.</summary>
        private static IBankMessage Aged(IBankMessage request, TimeSpan age) => request switch
        {
            AccountRequest call when Aged(call.Command, age) is { } command => call with { Command = command },
            NamedAccountRequest call when Aged(call.Command, age) is { } command => call with { Command = command },
            _ => request,
        };

        /// <summary>The same command, its age grown by <paramref name="elapsed"/> (a resend from another process starts older).</summary>
        private static IAccountCommand? Aged(IAccountCommand command, TimeSpan elapsed) => command switch
        {
            Deposit deposit => deposit with { Age = deposit.Age + elapsed },
            Withdraw withdraw => withdraw with { Age = withdraw.Age + elapsed },
            _ => null,
        };

        /// <summary>The age the operation had when this session first sent it, for a call whose age an account weighs; else null.</summary>
        private static TimeSpan? FirstSentAge(IBankMessage request) => request switch
        {
            AccountRequest { Command: Deposit or Withdraw } call => AgeOf(call.Command),
            NamedAccountRequest { Command: Deposit or Withdraw } call => AgeOf(call.Command),
            _ => null,
        };

        private static TimeSpan AgeOf(IAccountCommand command) => command is Deposit deposit ? deposit.Age : ((Withdraw)command).Age;

        /// <summary>The gateway heard nothing in time (it sent the call): resend. Other failures (TLS, a node shutting down here) are final.</summary>
        public static bool IsSilence(BankException failure) => failure is { Kind: ErrorKind.ClusterUnreachable, Code: "Timeout" };

        /// <summary>
        /// A final answer; an account's refusal of an id it may have forgotten names the id, like any OutcomeUnknown.
        /// </summary>
        public static object Final(IBankMessage request, object answer) =>
            answer is Rejected { Kind: ErrorKind.OutcomeUnknown } unknown
                ? throw new BankException(unknown.Kind, unknown.Code, unknown.Message, RetryPolicy.IdOf(request))
                : answer;
    }
}
