using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Bank.Nodes.Tests;

/// <summary>
/// The one launcher of the real `bank` executable (bank.dll, built beside this test assembly) as a child process: a
/// client command run to its end (<see cref="RunAsync"/>), a command a test acts on while it runs (<see cref="Start"/>),
/// or a long-running node that is ready once it prints "node up at" (<see cref="StartNodeAsync"/>). It reads stdout and
/// stderr as they come; it can be stopped gracefully (SIGTERM) or crashed (kill -9), and disposing it kills whatever
/// is still running.
/// </summary>
public sealed class BankProcess : IAsyncDisposable
{
    /// <summary>How long a node may take to print "node up at" on a busy machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a node may take to leave its cluster and exit after SIGTERM.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private const string UpMarker = " node up at ";

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly List<(string Line, TaskCompletionSource Seen)> _waiters = [];
    private readonly TaskCompletionSource<string?> _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private bool _stdoutEnded;

    private BankProcess(Process process, string description)
    {
        _process = process;
        Description = description;
        _stdoutPump = PumpStdoutAsync();
        _stderrPump = PumpStderrAsync();
    }

    /// <summary>What a process ended with: its exit code and everything it printed.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

        public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    }

    /// <summary>What was started, for messages (never a connection string).</summary>
    public string Description { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Its stdout so far, a line ending in "\n" per line.</summary>
    public string Stdout
    {
        get
        {
            lock (_gate) return string.Concat(_lines.Select(l => l + "\n"));
        }
    }

    /// <summary>Its stderr so far, as written.</summary>
    public string Stderr
    {
        get
        {
            lock (_gate) return _stderr.ToString();
        }
    }

    /// <summary>A node's "HOST:PORT", from its "node up at HOST:PORT;" line.</summary>
    public string Address =>
        (_up.Task.IsCompletedSuccessfully ? _up.Task.Result : null) ?? throw new InvalidOperationException($"{Description} is not up");

    private static readonly IReadOnlyDictionary<string, string?> NoVariables = new Dictionary<string, string?>();

    /// <summary>Runs `bank ARGS` to its end; a <see cref="TimeoutException"/> (and the process killed) after <paramref name="timeout"/>.</summary>
    public static Task<Result> RunAsync(TimeSpan timeout, params string[] args) => RunAsync(timeout, NoVariables, args);

    /// <summary>Runs `bank ARGS` to its end with these environment variables set (a null value unsets one).</summary>
    public static async Task<Result> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        await using var running = Start("bank " + string.Join(' ', args), args, environment);
        return await running.WaitForExitAsync(timeout);
    }

    /// <summary>Runs `bank ARGS` to its end in <paramref name="workingDirectory"/> (where it reads appsettings.json) with these variables.</summary>
    public static async Task<Result> RunInAsync(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        await using var running = Start("bank " + string.Join(' ', args), args, environment, workingDirectory);
        return await running.WaitForExitAsync(timeout);
    }

    /// <summary>Starts `bank ARGS` and reads its output as it comes, so a test can act on a line while it runs.</summary>
    public static BankProcess Start(params string[] args) => Start("bank " + string.Join(' ', args), args);

    /// <summary>Starts `bank ARGS` (`bank start ...`) and waits until it prints its "node up at" line.</summary>
    /// <param name="description">Names the node in messages; the arguments may hold a password.</param>
    public static Task<BankProcess> StartNodeAsync(string description, params string[] args) => StartNodeAsync(description, NoVariables, args);

    /// <summary>As <see cref="StartNodeAsync(string, string[])"/>, with <paramref name="environment"/> added to the process's variables.</summary>
    public static async Task<BankProcess> StartNodeAsync(string description, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var node = Start(description, args, environment);
        try
        {
            // Null: its stdout ended, so it exited, before it was up.
            if (await node._up.Task.WaitAsync(StartTimeout) is null)
                throw new InvalidOperationException($"{description} exited before it was up{node.Tail()}");
            return node;
        }
        catch (TimeoutException)
        {
            await node.DisposeAsync();
            throw new TimeoutException($"{description} was not up within {StartTimeout.TotalSeconds} s{node.Tail()}");
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

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

    /// <summary>Sends SIGTERM, as `kill` or a service manager does (Process has no API for other signals), and returns.</summary>
    public async Task TerminateAsync()
    {
        if (_process.HasExited) return;
        var kill = new ProcessStartInfo("kill") { UseShellExecute = false };
        kill.ArgumentList.Add("-TERM");
        kill.ArgumentList.Add(_process.Id.ToString(CultureInfo.InvariantCulture));
        using var sender = Process.Start(kill) ?? throw new InvalidOperationException("could not start kill");
        await sender.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM (a node leaves gracefully) and returns the exit code once the process is gone.</summary>
    public async Task<int> StopAsync()
    {
        await TerminateAsync();
        try
        {
            return (await WaitForExitAsync(StopTimeout)).ExitCode;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Description} did not exit within {StopTimeout.TotalSeconds} s of SIGTERM{Tail()}");
        }
    }

    /// <summary>
    /// Waits for the process to end by itself (exit code 137 after a SIGKILL) and returns what it printed; a
    /// <see cref="TimeoutException"/> (and the process killed) after <paramref name="timeout"/>.
    /// </summary>
    public async Task<Result> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Crash();
            throw new TimeoutException($"{Description} did not exit within {timeout.TotalSeconds} s{Tail()}");
        }

        await Task.WhenAll(_stdoutPump, _stderrPump);
        return new Result(_process.ExitCode, Stdout, Stderr);
    }

    /// <summary>kill -9: a node vanishes without leaving the cluster; returns once its process is gone.</summary>
    public async Task KillAsync()
    {
        Crash();
        using var limit = new CancellationTokenSource(StopTimeout);
        await _process.WaitForExitAsync(limit.Token);
    }

    /// <summary>The end of its output, for failure messages.</summary>
    public string Tail()
    {
        static string Last(string text) => text.Length <= 3000 ? text : "..." + text[^3000..];
        return $"\n--- stdout of {Description}:\n{Last(Stdout)}\n--- stderr:\n{Last(Stderr)}";
    }

    public async ValueTask DisposeAsync()
    {
        Crash();
        try
        {
            using var limit = new CancellationTokenSource(StopTimeout);
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            // Nothing more can be done about a process that will not die; the test has failed already.
        }

        _process.Dispose();
    }

    private static BankProcess Start(string description, string[] args, IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bank.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? NoVariables)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        return new BankProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {description}"), description);
    }

    private void Crash()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }
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

            var at = line.IndexOf(UpMarker, StringComparison.Ordinal);
            if (at >= 0)
            {
                var address = line[(at + UpMarker.Length)..];
                var end = address.IndexOf(';');
                _up.TrySetResult(end >= 0 ? address[..end] : address.Trim());
            }
        }

        lock (_gate)
        {
            _stdoutEnded = true;
            foreach (var waiter in _waiters)
                waiter.Seen.TrySetException(new InvalidOperationException(Missing(waiter.Line)));
            _waiters.Clear();
        }

        _up.TrySetResult(null);
    }

    private async Task PumpStderrAsync()
    {
        var buffer = new char[4096];
        int read;
        while ((read = await _process.StandardError.ReadAsync(buffer)) > 0)
        {
            lock (_gate) _stderr.Append(buffer, 0, read);
        }
    }

    private string Missing(string line)
    {
        lock (_gate)
            return $"{Description} did not print '{line}'; its output so far:\n{string.Join('\n', _lines)}";
    }
}
