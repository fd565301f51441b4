using System.Runtime.InteropServices;
using Bank.Benchmarks.OrleansPeer;

// Ctrl+C or SIGTERM ends the run with exit code 130, as bank's commands do.
using var stopping = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return await PeerBenchmark.RunAsync(args, Console.Out, Console.Error, stopping.Token);

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
}
