using Akka.Actor;

namespace Bank.Hosting.Lease;

/// <summary>
/// Why a node shut itself down: another cluster took its journal's lease, so this one may no longer write the journal.
/// `bank start` prints <see cref="Message"/> as its one error line and exits 1.
/// </summary>
public sealed class JournalLeaseLost(string message) : CoordinatedShutdown.Reason
{
    public string Message { get; } = message;

    /// <summary>A refused start's code (ExitCodes.Failure): the journal belongs to another cluster.</summary>
    public override int ExitCode => 1;

    public override string ToString() => Message;
}
