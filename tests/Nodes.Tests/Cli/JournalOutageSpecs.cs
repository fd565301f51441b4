using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Configuration;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Xunit;
using Xunit.Abstractions;

namespace Bank.Nodes.Tests;

/// <summary>
/// ISSUE17 point 2: the journal's PostgreSQL (a server of the test's own) stopped for 20 s, or frozen for 15 s, in the
/// middle of deposits. The node stays up; every call is answered within <see cref="AnswerBound"/> (a "try again" code
/// while the database is away); writes resume within 10 s of its return; every acknowledged deposit is in the journal
/// exactly once, although the callers resend with the same id every deposit whose answer said "try again"; and the state
/// store catches up.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class JournalOutageSpecs(ITestOutputHelper output)
{
    private const int Accounts = 4;

    /// <summary>The slowest answer a call may get while the database is away: well inside the client's 15 s ask timeout.</summary>
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(8);

    /// <summary>ISSUE17: writes resume within 10 s of the database answering again.</summary>
    private static readonly TimeSpan ResumeBound = TimeSpan.FromSeconds(10);

    private static readonly string[] TryAgainCodes = ["JournalUnavailable", "JournalWriteFailed", "Moving"];

    [SkippableFact]
    public Task A_node_whose_PostgreSQL_stops_for_20_s_answers_fast_and_resumes_with_every_acknowledged_deposit_once() =>
        OutageAsync(pg => pg.Stop(), pg => pg.Start(), TimeSpan.FromSeconds(20));

    [SkippableFact]
    public Task A_node_whose_PostgreSQL_freezes_for_15_s_answers_fast_and_resumes_with_every_acknowledged_deposit_once() =>
        OutageAsync(pg => pg.Freeze(), pg => pg.Thaw(), TimeSpan.FromSeconds(15));

    private async Task OutageAsync(Action<OwnPostgres> fault, Action<OwnPostgres> heal, TimeSpan outage)
    {
        using var postgres = await OwnPostgres.StartAsync();
        var port = FreePort.Next();
        await using var head = await BankProcess.StartNodeAsync($"head on port {port}",
            "start", "--head", "--port", port.ToString(), "--journal", "postgres", "--connection", postgres.ConnectionString);
        // One attempt per call: this spec resends itself, as a script with --id does, and times each answer.
        await using var client = await BankClient.ConnectAsync([head.Address],
            ConfigurationFactory.ParseString("bank.client.attempts = 1\nbank.client.retry-deadline = 0s"));
        await using var session = client.OpenSession();
        var names = Enumerable.Range(0, Accounts).Select(i => $"outage-{i}").ToArray();
        foreach (var name in names)
            await session.OpenAsync(name, new AccountOptions(0m, 0m) { Detached = true });

        var clock = Stopwatch.StartNew();
        var load = new Load(clock);
        var callers = names.Select(name => load.RunAsync(session, name)).ToArray();
        await Eventually.HoldsAsync(() => load.Acknowledged.Count >= 20, "deposits before the fault");

        fault(postgres);
        var faultAt = clock.Elapsed;
        output.WriteLine($"fault at {faultAt.TotalSeconds:0.0} s after {load.Acknowledged.Count} acknowledged deposits");
        await Task.Delay(outage);
        heal(postgres);
        var healedAt = clock.Elapsed;
        output.WriteLine($"healed at {healedAt.TotalSeconds:0.0} s");

        // Writes resume: a deposit acknowledged after the database came back, within the bound.
        try
        {
            await Eventually.HoldsAsync(() => load.FirstAcknowledgedAfter(healedAt) is not null, "a deposit after the database returned",
                within: ResumeBound + TimeSpan.FromSeconds(20));
        }
        finally
        {
            output.WriteLine(load.Timeline());
            output.WriteLine("node's output:\n" + Last(head.Stdout + head.Stderr, 120));
        }

        var resumedAfter = load.FirstAcknowledgedAfter(healedAt)!.Value - healedAt;
        output.WriteLine($"writes resumed {resumedAfter.TotalSeconds:0.0} s after the database returned");
        await Task.Delay(TimeSpan.FromSeconds(2));
        load.Stop();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine($"{load.Acknowledged.Count} acknowledged, {load.Refusals.Count} refusals; slowest answer " +
                         $"{load.Slowest.TotalSeconds:0.00} s; codes: {string.Join(", ", load.Refusals.GroupBy(r => r).Select(g => $"{g.Key} x{g.Count()}"))}");
        Assert.False(head.HasExited, "the node exited during the outage:\n" + head.Stderr);
        Assert.True(load.Refusals.Count > 0, "no call was refused while the database was away: the fault did not take effect");
        Assert.All(load.Refusals, code => Assert.Contains(code, TryAgainCodes));
        Assert.True(load.Slowest < AnswerBound, $"a call took {load.Slowest.TotalSeconds:0.0} s to answer (bound {AnswerBound.TotalSeconds} s)");
        Assert.True(resumedAfter < ResumeBound, $"writes resumed {resumedAfter.TotalSeconds:0.0} s after the database returned (bound {ResumeBound.TotalSeconds} s)");

        // Exactly once: each acknowledged request id in one journal row, and no other deposit row.
        var acknowledged = load.Acknowledged.ToArray();
        string[] deposited = ["deposited"];
        var counts = await JournalRequestIds.CountAsync(postgres.ConnectionString, deposited, acknowledged.Select(a => a.Id).ToArray());
        Assert.All(counts, c => Assert.True(c.Value == 1, $"request id {c.Key} is in the journal {c.Value} times"));
        Assert.Equal((long)acknowledged.Length, await JournalRequestIds.TotalAsync(postgres.ConnectionString, deposited));

        var expected = names.ToDictionary(n => n, n => (decimal)acknowledged.Count(a => a.Name == n));
        foreach (var name in names)
            Assert.Equal(expected[name], await session.BalanceAsync(name));

        // The state store catches up: every account's row holds its balance, and nothing is left to take in.
        await Eventually.HoldsAsync(async () =>
        {
            var stored = await session.StoredAccountsAsync();
            return stored.Lag == 0 && names.All(n => stored.Accounts.Any(a => a.Name == n && a.Balance == expected[n]));
        }, "the state store to catch up", within: TimeSpan.FromSeconds(30), interval: TimeSpan.FromSeconds(1));
    }

    /// <summary>The last lines of a node's output, each cut short (its log lines carry whole stack traces).</summary>
    private static string Last(string text, int lines) =>
        string.Join('\n', text.Split('\n').TakeLast(lines).Select(l => l.Length <= 300 ? l : l[..300] + " ..."));

    /// <summary>One caller per account, depositing 1 at a time; a "try again" answer is resent with the same request id.</summary>
    private sealed class Load(Stopwatch clock)
    {
        private volatile bool _stopping;
        private long _slowestTicks;

        public ConcurrentQueue<(string Name, string Id, TimeSpan At)> Acknowledged { get; } = new();

        public ConcurrentQueue<string> Refusals { get; } = new();

        private ConcurrentQueue<(TimeSpan At, TimeSpan Took, string Answer)> Answers { get; } = new();

        /// <summary>Every answer per second of the run, for the test's output.</summary>
        public string Timeline() => string.Join('\n', Answers.GroupBy(a => (int)a.At.TotalSeconds).OrderBy(g => g.Key).Select(g =>
            $"{g.Key,4} s: " + string.Join(", ", g.GroupBy(a => a.Answer).Select(a => $"{a.Key} x{a.Count()} (slowest {a.Max(x => x.Took.TotalSeconds):0.0} s)"))));

        public TimeSpan Slowest => TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks));

        public void Stop() => _stopping = true;

        public TimeSpan? FirstAcknowledgedAfter(TimeSpan at) =>
            Acknowledged.Where(a => a.At > at).Select(a => (TimeSpan?)a.At).Min();

        public async Task RunAsync(BankSession session, string name)
        {
            while (!_stopping)
            {
                var id = "outage-" + Guid.NewGuid().ToString("N");
                while (true)
                {
                    var started = clock.Elapsed;
                    try
                    {
                        await session.DepositAsync(name, 1m, id);
                        Took(clock.Elapsed - started);
                        Answers.Enqueue((clock.Elapsed, clock.Elapsed - started, "ok"));
                        Acknowledged.Enqueue((name, id, clock.Elapsed));
                        break;
                    }
                    // Not done, or maybe done (a write the journal may have committed): the same id goes again, as a script does.
                    catch (BankException e) when (e.MayResendSameId)
                    {
                        Took(clock.Elapsed - started);
                        Answers.Enqueue((clock.Elapsed, clock.Elapsed - started, e.Code));
                        Refusals.Enqueue(e.Code);
                        await Task.Delay(200);
                    }
                }
            }
        }

        private void Took(TimeSpan took)
        {
            long seen;
            do seen = Interlocked.Read(ref _slowestTicks);
            while (took.Ticks > seen && Interlocked.CompareExchange(ref _slowestTicks, took.Ticks, seen) != seen);
        }
    }
}
