using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// Issue 17, point 4: a worker of three nodes is stopped with `kill -STOP` for longer than the failure detector's pause
/// while deposits keep coming for the accounts it holds (through the head), then continued with `kill -CONT`. The split
/// brain resolver downs it and its accounts move; when it wakes it must shut itself down and write nothing more to the
/// journal for the accounts that moved: every account's journal has one writer at a time (sequence numbers 1..N, no
/// writer coming back after another took over), every acknowledged deposit is there exactly once, and the balances are
/// the opening balances plus the acknowledged deposits. Needs BANK_TEST_POSTGRES (skipped with that reason elsewhere).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PausedNodeSpecs(ITestOutputHelper output)
{
    private const int Accounts = 12;
    private const decimal Opening = 100m;
    private const int Loaders = 4;

    /// <summary>How long the paused worker may take to be downed and removed (about 7 s after it stops answering).</summary>
    private static readonly TimeSpan RemovalLimit = TimeSpan.FromSeconds(30);

    /// <summary>Deposits go on this long after the worker is removed, so that the accounts' new instances write first.</summary>
    private static readonly TimeSpan LoadAfterRemoval = TimeSpan.FromSeconds(3);

    /// <summary>And this long after it is continued, while it wakes up with calls it took in before it stopped.</summary>
    private static readonly TimeSpan LoadAfterResume = TimeSpan.FromSeconds(5);

    /// <summary>A deposit that gets no definite answer within this fails the test.</summary>
    private static readonly TimeSpan DepositLimit = TimeSpan.FromSeconds(60);

    /// <summary>The woken worker must have shut itself down within this.</summary>
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(30);

    private static string Name(int i) => $"paused{i}";

    [SkippableFact]
    public async Task A_worker_paused_past_the_failure_detector_is_downed_and_never_writes_beside_its_successor()
    {
        var connectionString = PostgresDatabase.RequireConnectionString();
        await using var database = await PostgresDatabase.CreateAsync(connectionString);
        var nodes = new List<BankProcess>();
        try
        {
            var headPort = FreePort.Next();
            var head = await BankProcess.StartNodeAsync($"head on port {headPort}",
                "start", "--head", "--port", headPort.ToString(), "--journal", "postgres", "--connection", database.ConnectionString);
            nodes.Add(head);
            for (var i = 0; i < 2; i++)
            {
                var port = FreePort.Next();
                nodes.Add(await BankProcess.StartNodeAsync($"worker on port {port}",
                    "start", "--address", head.Address, "--port", port.ToString(), "--journal", "postgres", "--connection", database.ConnectionString));
            }

            await RunAsync(database, head, nodes[^1], () => string.Concat(nodes.Select(n => n.Tail())));
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    private async Task RunAsync(PostgresDatabase database, BankProcess head, BankProcess paused, Func<string> diagnostics)
    {
        await using var client = await BankClient.ConnectAsync([head.Address]);
        var session = client.OpenSession();
        var actors = await BankCommands.LimitedAsync(Enumerable.Range(0, Accounts), 2, i => OpenAsync(session, Name(i)));
        var pausedNode = $"akka.tcp://bank@{paused.Address}";
        var onPaused = (await session.ListAsync()).Where(a => a.Node == pausedNode).Select(a => a.Key).ToHashSet();
        output.WriteLine($"{onPaused.Count} of {Accounts} accounts on the worker to be paused ({paused.Address})");
        Assert.True(onPaused.Count > 0, "no account lives on the worker to be paused, so pausing it proves nothing");

        // The load: each deposit is sent again under its own id until it gets a definite answer.
        var clock = Stopwatch.StartNew();
        var stop = new CancellationTokenSource();
        var acked = new ConcurrentBag<(int Account, decimal Amount, string Id)>();
        var failures = new ConcurrentQueue<string>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var next = 0;
        var loaders = Enumerable.Range(0, Loaders).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref next);
                var (account, amount, id) = (n % Accounts, (decimal)(1 + (n % 9)), $"pause-{run}-{n}");
                var sent = clock.Elapsed;
                while (true)
                {
                    try
                    {
                        await session.DepositAsync(actors[account], amount, id);
                        acked.Add((account, amount, id));
                        break;
                    }
                    catch (BankException e) when (IsTryAgain(e) && clock.Elapsed - sent < DepositLimit)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(200));
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue($"deposit {id} to {Name(account)}: {(e as BankException)?.Kind.ToString() ?? e.GetType().Name}: {e.Message}");
                        break;
                    }
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        var pausedAtTicks = DateTime.UtcNow.Ticks;
        Signal(paused, "STOP");
        var pausedAt = clock.Elapsed;
        output.WriteLine($"{pausedAt.TotalSeconds:0.0} s: kill -STOP {paused.Pid}, {acked.Count} deposits acknowledged");
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                var view = await session.ClusterViewAsync();
                return view.Members.All(m => m.Address != pausedNode);
            }
            catch (BankException)
            {
                return false;
            }
        }, "the paused worker to be removed from the cluster", RemovalLimit, TimeSpan.FromMilliseconds(500));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: the paused worker is removed, {(clock.Elapsed - pausedAt).TotalSeconds:0.0} s after it stopped");
        await Task.Delay(LoadAfterRemoval);

        var resumedAtTicks = DateTime.UtcNow.Ticks;
        Signal(paused, "CONT");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: kill -CONT {paused.Pid}, {acked.Count} deposits acknowledged");
        await Task.Delay(LoadAfterResume);
        await stop.CancelAsync();
        await Task.WhenAll(loaders);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: load over, {acked.Count} deposits acknowledged, {failures.Count} failed");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)) + diagnostics());

        // The woken worker learns it was downed and shuts itself down.
        try
        {
            var exited = await paused.WaitForExitAsync(ExitLimit);
            output.WriteLine($"the woken worker exited with code {exited.ExitCode}");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the woken worker did not shut itself down within {ExitLimit.TotalSeconds} s of kill -CONT{diagnostics()}");
        }

        var problems = new List<string>();
        problems.AddRange(await CheckWritersAsync(database, onPaused, pausedAtTicks, resumedAtTicks));
        for (var i = 0; i < Accounts; i++)
        {
            var history = await session.HistoryAsync(Name(i));
            var status = await session.StatusAsync(actors[i]);
            var mine = acked.Where(a => a.Account == i).ToList();
            var ids = history.Events.Where(e => e.RequestId is not null).GroupBy(e => e.RequestId!).ToDictionary(g => g.Key, g => g.Count());
            problems.AddRange(mine.Where(a => ids.GetValueOrDefault(a.Id) != 1)
                .Select(a => $"acknowledged deposit {a.Id} is in {Name(i)}'s journal {ids.GetValueOrDefault(a.Id)} times"));
            var expected = Opening + mine.Sum(a => a.Amount);
            if (status.Balance != expected)
                problems.Add($"{Name(i)} has {status.Balance.ToString(CultureInfo.InvariantCulture)}, expected {expected.ToString(CultureInfo.InvariantCulture)} (opening + acknowledged deposits)");
        }

        output.WriteLine($"{problems.Count} problem(s)");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)) + diagnostics());
        await session.DisposeAsync();
    }

    /// <summary>
    /// Each moved account's journal, read straight from the database: sequence numbers 1..N once each, each writer's
    /// events in one unbroken run (no writer writes again after another took over), and nothing from the writers that
    /// ran on the paused worker written after it was continued.
    /// </summary>
    private static async Task<List<string>> CheckWritersAsync(PostgresDatabase database, IReadOnlySet<string> moved, long pausedAtTicks, long resumedAtTicks)
    {
        var problems = new List<string>();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        foreach (var key in moved)
        {
            var persistenceId = BankConstants.AccountPersistenceIdPrefix + key;
            var rows = new List<(long Seq, string Writer, long Created)>();
            await using (var read = new NpgsqlCommand(
                             "SELECT sequence_number, writer_uuid, created FROM journal WHERE persistence_id = @id ORDER BY sequence_number", connection))
            {
                read.Parameters.AddWithValue("id", persistenceId);
                await using var reader = await read.ExecuteReaderAsync();
                while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetInt64(2)));
            }

            var seqs = rows.Select(r => r.Seq).ToList();
            if (!seqs.SequenceEqual(Enumerable.Range(1, seqs.Count).Select(n => (long)n)))
                problems.Add($"{persistenceId}: sequence numbers are not 1..{seqs.Count} once each: {string.Join(",", seqs.Take(40))}");

            var runs = new List<string>();
            foreach (var row in rows.Where(row => runs.Count == 0 || runs[^1] != row.Writer)) runs.Add(row.Writer);
            foreach (var writer in runs.GroupBy(w => w).Where(g => g.Count() > 1))
                problems.Add($"{persistenceId}: writer {writer.Key} wrote again after another writer took over (runs: {string.Join(" ", runs)})");

            // The writers that wrote before the pause ran on the paused worker (this account lived there); the account
            // moved when another writer followed them. None of them may write once the paused worker is continued.
            var old = rows.Where(r => r.Created < pausedAtTicks).Select(r => r.Writer).ToHashSet();
            var moves = rows.Any(r => !old.Contains(r.Writer));
            var late = rows.Where(r => moves && old.Contains(r.Writer) && r.Created >= resumedAtTicks).ToList();
            if (late.Count > 0)
                problems.Add($"{persistenceId}: its writer on the paused worker journaled {late.Count} event(s) after kill -CONT (seq {string.Join(",", late.Select(r => r.Seq))})");
        }

        return problems;
    }

    /// <summary>Opens the account; on a busy machine an open may time out after it was done, so then the name is looked up.</summary>
    private static async Task<ActorInfo> OpenAsync(BankSession session, string name)
    {
        return await Eventually.ReadsAsync(async () =>
        {
            try
            {
                return await session.OpenAsync(name, new AccountOptions(Opening, 0m) { Detached = true, MaxRestarts = -1, MaxTaskRetries = -1 });
            }
            catch (BankException e) when (IsTryAgain(e) || e.Kind == ErrorKind.AlreadyExists)
            {
                try
                {
                    return await session.GetActorAsync(name);
                }
                catch (BankException)
                {
                    return null;
                }
            }
        }, actor => actor is not null, $"{name} to open", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500)) ?? throw new InvalidOperationException(name);
    }

    /// <summary>An answer that means "not done now, send the same id again" (OutcomeUnknown named, for the client that has it).</summary>
    private static bool IsTryAgain(BankException e) => e.MayResendSameId;

    private static void Signal(BankProcess process, string signal)
    {
        var kill = new ProcessStartInfo("kill") { UseShellExecute = false };
        kill.ArgumentList.Add("-" + signal);
        kill.ArgumentList.Add(process.Pid.ToString(CultureInfo.InvariantCulture));
        using var sender = Process.Start(kill) ?? throw new InvalidOperationException("could not start kill");
        sender.WaitForExit();
        Assert.True(sender.ExitCode == 0, $"kill -{signal} {process.Pid} exited {sender.ExitCode}");
    }
}
