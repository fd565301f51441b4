using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bank.Nodes.Tests;

/// <summary>
/// A long-running `bank start ...` node as a real child process (bank.dll beside this test assembly). It is ready when
/// its stdout says "node up at"; it can be stopped gracefully (SIGTERM) or crashed (kill -9), and disposing it kills
/// whatever is still running.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _up = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    /// <summary>What was started, for messages (never a connection string).</summary>
    public string Description { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_stdout) return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>A loopback port that nothing listens on right now.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Starts `bank ARGS` and waits until it prints its "node up at" line.</summary>
    /// <param name="description">Names the node in messages; the arguments may hold a password.</param>
    public static async Task<NodeProcess> StartAsync(string description, params string[] args)
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

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new NodeProcess(process, description);
        process.OutputDataReceived += (_, e) => node.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnStderr(e.Data);
        process.Exited += (_, _) => node._up.TrySetException(
            new InvalidOperationException($"{description} exited before it was up{node.Tail()}"));
        if (!process.Start()) throw new InvalidOperationException($"could not start {description}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await node._up.Task.WaitAsync(StartTimeout);
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

        return node;
    }

    /// <summary>The "HOST:PORT" of its "node up at HOST:PORT;" line.</summary>
    public string Address => _up.Task.IsCompletedSuccessfully ? _up.Task.Result : throw new InvalidOperationException("not up");

    /// <summary>Sends SIGTERM (a graceful leave) and returns the exit code once the process is gone.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString()]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not run kill");
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Crash();
            throw new TimeoutException($"{Description} did not exit within {StopTimeout.TotalSeconds} s of SIGTERM{Tail()}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for the process to end by itself and returns its exit code (137 for a SIGKILL).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Description} did not exit within {limit.TotalSeconds} s{Tail()}");
        }

        return _process.ExitCode;
    }

    /// <summary>kill -9: the node vanishes without leaving the cluster.</summary>
    public async Task KillAsync()
    {
        Crash();
        using var timeout = new CancellationTokenSource(StopTimeout);
        await _process.WaitForExitAsync(timeout.Token);
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

    /// <summary>The end of its output, for failure messages.</summary>
    public string Tail()
    {
        static string Last(string text) => text.Length <= 3000 ? text : "..." + text[^3000..];
        return $"\n--- stdout of {Description}:\n{Last(Stdout)}\n--- stderr:\n{Last(Stderr)}";
    }

    private void OnStdout(string? line)
    {
        if (line is null) return;
        lock (_stdout) _stdout.AppendLine(line);
        const string marker = " node up at ";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            var address = line[(at + marker.Length)..];
            var end = address.IndexOf(';');
            _up.TrySetResult(end >= 0 ? address[..end] : address.Trim());
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null) return;
        lock (_stderr) _stderr.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        Crash();
        try
        {
            using var timeout = new CancellationTokenSource(StopTimeout);
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            // Nothing more can be done about a process that will not die; the test has failed already.
        }

        _process.Dispose();
    }
}
