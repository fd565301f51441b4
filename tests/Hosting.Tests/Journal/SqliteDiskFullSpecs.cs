using System.Diagnostics;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Journal;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bank.Hosting.Tests.Journal;

/// <summary>
/// ISSUE17 point 3: the SQLite journal's database cannot grow (max_page_count at its size, what a full disk does to it).
/// Deposits are refused with one clear "try again" line, the node keeps answering, the file stays intact, every
/// acknowledged deposit is kept, and writes resume by themselves once the database may grow again: each refused
/// deposit, resent with its id, is applied once.
/// </summary>
public sealed class SqliteDiskFullSpecs
{
    private static readonly string[] TryAgainCodes = ["JournalUnavailable", "JournalWriteFailed", "Moving"];

    [Fact]
    public async Task A_full_SQLite_journal_refuses_writes_in_one_line_stays_intact_and_resumes_when_space_returns()
    {
        // One attempt per call (no client resends): the spec reads the node's own answer while the file cannot grow.
        await using var cluster = await InProcessCluster.StartAsync(1, "bank.client.retry-deadline = 0s");
        await using var session = cluster.NewSession();
        var names = new[] { "full-a", "full-b", "full-c" };
        foreach (var name in names)
            await session.OpenAsync(name, new AccountOptions(0m, 0m) { Detached = true });
        var acknowledged = names.ToDictionary(n => n, _ => 0m);
        foreach (var name in names)
        {
            await session.DepositAsync(name, 1m, $"{name}-first");
            acknowledged[name]++;
        }

        var committer = SqliteGroupCommitter.Running(cluster.Data.Persistence.ConnectionString)
                        ?? throw new InvalidOperationException("the node's SQLite writer is not running");
        await committer.SetMaxPageCount(PageCount(cluster.Data));

        // Deposit until the database is full: a refusal, which resending its id does not get past while it is full.
        var refusals = new List<BankException>();
        var pending = new Dictionary<string, string>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; refusals.Count == 0 && clock.Elapsed < TimeSpan.FromSeconds(60); i++)
        {
            var name = names[i % names.Length];
            var id = $"{name}-{i}";
            try
            {
                await session.DepositAsync(name, 1m, id);
                acknowledged[name]++;
            }
            catch (BankException e) when (e.MayResendSameId)
            {
                refusals.Add(e);
                pending[name] = id;
            }
        }

        var refused = Assert.Single(refusals);
        Assert.Contains(refused.Code, TryAgainCodes);
        Assert.DoesNotContain('\n', refused.Message);
        var (fullName, fullId) = pending.Single();
        var again = await Assert.ThrowsAsync<BankException>(() => session.DepositAsync(fullName, 1m, fullId));
        Assert.Contains(again.Code, TryAgainCodes);

        // The node still answers, from what is acknowledged, and the file is intact.
        Assert.Equal(acknowledged[names[0]], await session.BalanceAsync(names[0]));
        Assert.Equal("ok", IntegrityCheck(cluster.Data));

        // Space returns: the refused deposit, resent with its id until it goes in, is applied once.
        await committer.SetMaxPageCount(null);
        var resumed = await Eventually.ReadsAsync(async () =>
        {
            try
            {
                return (decimal?)await session.DepositAsync(fullName, 1m, fullId);
            }
            catch (BankException e) when (e.MayResendSameId)
            {
                return null;
            }
        }, balance => balance is not null, "writes to resume once the database may grow", within: TimeSpan.FromSeconds(10),
            interval: TimeSpan.FromMilliseconds(250));
        acknowledged[fullName]++;
        Assert.Equal(acknowledged[fullName], resumed);
        Assert.Equal(acknowledged[fullName], await session.DepositAsync(fullName, 1m, fullId));
        foreach (var name in names)
            Assert.Equal(acknowledged[name], await session.BalanceAsync(name));
        Assert.Equal("ok", IntegrityCheck(cluster.Data));
    }

    private static long PageCount(TempDataDirectory data) => (long)Scalar(data, "PRAGMA page_count")!;

    private static string IntegrityCheck(TempDataDirectory data) => (string)Scalar(data, "PRAGMA integrity_check")!;

    private static object? Scalar(TempDataDirectory data, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder(data.Persistence.ConnectionString) { Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
