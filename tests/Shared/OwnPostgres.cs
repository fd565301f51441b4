using System.Diagnostics;
using Npgsql;
using Xunit;

namespace Bank.Testing;

/// <summary>
/// A PostgreSQL server of a test's own (initdb into a temporary folder, its own loopback port), for tests that stop or
/// freeze the database: the shared server other tests and helpers use is never touched. As root, the server runs as the
/// user postgres (PostgreSQL refuses to run as root). Skips where no PostgreSQL binaries are installed.
/// </summary>
public sealed class OwnPostgres : IDisposable
{
    public const string SkipReason =
        "no PostgreSQL binaries under /usr/lib/postgresql/*/bin: the journal-outage tests run a server of their own " +
        "(install Debian's postgresql package; .ci/run does)";

    private const string Role = "bank";
    private const string Password = "bank";
    private readonly string _bin;
    private readonly bool _asPostgres;

    private OwnPostgres(string bin, string folder, int port)
    {
        _bin = bin;
        Folder = folder;
        Port = port;
        _asPostgres = IsRoot();
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Database = Role, Username = Role, Password = Password, Pooling = true,
        }.ConnectionString;
    }

    /// <summary>The server's data folder (also its socket folder).</summary>
    public string Folder { get; }

    public int Port { get; }

    /// <summary>Role and database <c>bank</c> on this server.</summary>
    public string ConnectionString { get; }

    /// <summary>The newest installed PostgreSQL's bin folder, or null.</summary>
    public static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
            .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")) && File.Exists(Path.Combine(d.Dir, "pg_ctl")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Dir)
            .FirstOrDefault();
    }

    /// <summary>Initializes and starts a server; skips the calling test where PostgreSQL is not installed.</summary>
    public static async Task<OwnPostgres> StartAsync()
    {
        var bin = FindBinaries();
        Skip.If(bin is null, SkipReason);
        var folder = Path.Combine(Path.GetTempPath(), "bank-own-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var server = new OwnPostgres(bin!, folder, FreePort.Next());
        try
        {
            var passwordFile = Path.Combine(folder, "password");
            await File.WriteAllTextAsync(passwordFile, Password);
            if (server._asPostgres)
                await RunAsync("chown", ["-R", "postgres:", folder]);
            await server.PgAsync("initdb", ["-D", server.Data, "-U", Role, "--pwfile", passwordFile, "-A", "scram-sha-256",
                "--auth-local", "trust", "-E", "UTF8", "--no-sync"]);
            File.Delete(passwordFile);
            server.Start();
            var admin = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false };
            await using (var connection = new NpgsqlConnection(admin.ConnectionString))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Role}\"", connection);
                await create.ExecuteNonQueryAsync();
            }

            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private string Data => Path.Combine(Folder, "data");

    /// <summary>Starts the server (again) and waits until it takes connections.</summary>
    public void Start() => PgAsync("pg_ctl", ["-D", Data, "-l", Path.Combine(Folder, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k {Folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"]).GetAwaiter().GetResult();

    /// <summary>Stops the server as an operator would (<c>pg_ctl stop -m fast</c>): connections are ended.</summary>
    public void Stop() => PgAsync("pg_ctl", ["-D", Data, "-w", "-m", "fast", "stop"]).GetAwaiter().GetResult();

    /// <summary>Freezes the server: SIGSTOP to the postmaster and every process it started. TCP stays connected; nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Continues a frozen server.</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>The postmaster's pid and its children's.</summary>
    public IReadOnlyList<int> Processes()
    {
        var pidFile = Path.Combine(Data, "postmaster.pid");
        if (!File.Exists(pidFile)) return [];
        var postmaster = int.Parse(File.ReadLines(pidFile).First().Trim());
        var pids = new List<int> { postmaster };
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                // stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == postmaster) pids.Add(pid);
            }
            catch (IOException)
            {
                // The process ended while we read.
            }
        }

        return pids;
    }

    public void Dispose()
    {
        try
        {
            Thaw();
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
                PgAsync("pg_ctl", ["-D", Data, "-w", "-m", "immediate", "stop"]).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // Best effort: the folder goes anyway.
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Signal(string signal)
    {
        // Children first on STOP, postmaster first on CONT: either way no process of it runs while others are frozen.
        var pids = Processes();
        foreach (var pid in signal == "STOP" ? pids.Reverse() : pids)
            RunAsync("kill", [$"-{signal}", pid.ToString()]).GetAwaiter().GetResult();
    }

    private Task PgAsync(string tool, string[] arguments) =>
        _asPostgres
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments])
            : RunAsync(Path.Combine(_bin, tool), arguments);

    private static async Task RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/",
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}{await output}");
    }

    private static bool IsRoot()
    {
        try
        {
            return File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))
                ?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
