using Bank.Benchmarks.OrleansPeer;

// Ctrl+C or SIGTERM ends the run with exit code 130, as bank's commands do.
using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};
return await PeerBenchmark.RunAsync(args, Console.Out, Console.Error, stopping.Token);
