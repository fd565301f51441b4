using System.Diagnostics;

namespace Bank.Nodes.Tests;

/// <summary>Runs the real `bank` executable (bank.dll, built beside this test assembly) as a child process.</summary>
public static class BankProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

        public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    }

    public static async Task<Result> RunAsync(TimeSpan timeout, params string[] args)
    {
        await using var running = Start(args);
        return await running.WaitForExitAsync(timeout);
    }

    /// <summary>Starts `bank` and reads its output as it comes, so a test can act on a line while it runs.</summary>
    public static Running Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bank.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return new Running(Process.Start(start) ?? throw new InvalidOperationException("could not start bank"), args);
    }

    /// <summary>A `bank` process that is running; disposing it kills it if it has not exited.</summary>
    public sealed class Running : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _command;
        private readonly object _gate = new();
        private readonly List<string> _lines = [];
        private readonly List<(string Line, TaskCompletionSource Seen)> _waiters = [];
        private readonly Task _stdout;
        private readonly Task<string> _stderr;
        private bool _stdoutEnded;

        internal Running(Process process, IEnumerable<string> args)
        {
            _process = process;
            _command = "bank " + string.Join(' ', args);
            _stdout = PumpStdoutAsync();
            _stderr = process.StandardError.ReadToEndAsync();
        }

        public int Id => _process.Id;

        /// <summary>Completes when stdout shows exactly <paramref name="line"/>; fails if the process ends first.</summary>
        public async Task WaitForLineAsync(string line, TimeSpan timeout)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (_lines.Contains(line)) return;
                if (_stdoutEnded) throw new InvalidOperationException(Missing(line));
                _waiters.Add((line, seen));
            }

            try
            {
                await seen.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{Missing(line)} within {timeout.TotalSeconds} s");
            }
        }

        /// <summary>Sends SIGTERM, as `kill` or a service manager does; Process has no API for other signals.</summary>
        public async Task TerminateAsync()
        {
            var kill = new ProcessStartInfo("kill") { UseShellExecute = false };
            kill.ArgumentList.Add("-TERM");
            kill.ArgumentList.Add(_process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var sender = Process.Start(kill) ?? throw new InvalidOperationException("could not start kill");
            await sender.WaitForExitAsync();
        }

        public async Task<Result> WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{_command} did not exit within {timeout.TotalSeconds} s");
            }

            await _stdout;
            string stdout;
            lock (_gate) stdout = string.Concat(_lines.Select(l => l + "\n"));
            return new Result(_process.ExitCode, stdout, await _stderr);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private async Task PumpStdoutAsync()
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (_gate)
                {
                    _lines.Add(line);
                    foreach (var waiter in _waiters.Where(w => w.Line == line).ToList())
                    {
                        waiter.Seen.TrySetResult();
                        _waiters.Remove(waiter);
                    }
                }
            }

            lock (_gate)
            {
                _stdoutEnded = true;
                foreach (var waiter in _waiters)
                    waiter.Seen.TrySetException(new InvalidOperationException(Missing(waiter.Line)));
                _waiters.Clear();
            }
        }

        private string Missing(string line)
        {
            lock (_gate)
                return $"{_command} did not print '{line}'; its output so far:\n{string.Join('\n', _lines)}";
        }
    }
}
