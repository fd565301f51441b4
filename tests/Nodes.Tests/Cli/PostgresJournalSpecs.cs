using System.Text.Json.Nodes;
using Bank.Hosting.Journal;
using Bank.Nodes.Cli;
using Npgsql;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// The PostgreSQL journal commits in groups (one binary COPY per group): a run of deposits comes out exact, and an
/// append that fails (a sequence number taken twice) fails alone, the appends grouped with it committed.
/// </summary>
public sealed class PostgresJournalSpecs
{
    private static readonly JournalTableNames Table = new("journal", "deleted", "persistence_id", "sequence_number", "created",
        "message", "manifest", "identifier", "writer_uuid");

    [SkippableFact]
    public async Task Deposits_through_the_grouped_journal_come_out_exact()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var summary = await BenchAsync(database.ConnectionString, store: "off");
        Assert.Equal((true, 200), ((bool)summary["verified"]!, (int)summary["ops"]!));
        Assert.Equal(200L, await ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM journal WHERE manifest = 'deposited'"));
    }

    [SkippableFact]
    public async Task The_state_store_fed_from_PostgreSQL_ends_with_every_accounts_balance()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        // The bench waits until the store holds every deposit before it checks the balances.
        var summary = await BenchAsync(database.ConnectionString, store: "on");
        Assert.True((bool)summary["verified"]!);
        Assert.NotNull(summary["store_caught_up_ms"]);
        // One row per account, each with its 10 deposits of 1, as of its newest deposit or later.
        Assert.Equal(20L, await ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM bank_account_state WHERE balance = 10 AND version >= 11"));
    }

    [SkippableFact]
    public async Task An_append_that_fails_fails_alone()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        await CreateJournalAsync(database.ConnectionString);
        using var committer = PostgresGroupCommitter.Acquire(database.ConnectionString);
        await committer.Append(Table, [Row("taken", 1)]);

        var appends = new[]
        {
            committer.Append(Table, [Row("a", 1), Row("a", 2)]),
            committer.Append(Table, [Row("fresh", 1), Row("taken", 1)]),
            committer.Append(Table, [Row("b", 1)]),
        };

        await appends[0];
        await appends[2];
        await Assert.ThrowsAsync<PostgresException>(() => appends[1]);
        Assert.Equal(0L, await ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM journal WHERE persistence_id = 'fresh'"));
        Assert.Equal(4L, await ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM journal"));
    }

    [SkippableFact]
    public async Task The_state_stores_feed_waits_at_an_insert_in_flight_and_passes_an_ordering_that_never_fills()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        var connectionString = database.ConnectionString;
        await CreateJournalAsync(connectionString);
        using var committer = PostgresGroupCommitter.Acquire(connectionString);
        using var system = Akka.Actor.ActorSystem.Create("feed");
        await committer.Append(Table, [Row("a", 1)]);
        // An insert in flight: it has taken the next ordering, and its row shows only when it commits.
        await using var open = new NpgsqlConnection(connectionString);
        await open.OpenAsync();
        await using var transaction = await open.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
                         "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (1, false, 'b', 1, '\\x01')", open, transaction))
            await insert.ExecuteNonQueryAsync();
        await committer.Append(Table, [Row("a", 2)]);

        var seen = new List<string>();
        using var stop = new CancellationTokenSource();
        var following = FollowAsync(system, connectionString, gapTimeout: TimeSpan.FromMinutes(1), seen, stop.Token);
        await EventuallyAsync(following, seen, ["a:1"]);
        // A few polls later it still waits at the hole: a:2 is not handed over before b:1.
        await Holds.ForAsync(TimeSpan.FromMilliseconds(300), () =>
        {
            lock (seen) Assert.Equal(["a:1"], seen);
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(50));
        await transaction.CommitAsync();
        await EventuallyAsync(following, seen, ["a:1", "b:1", "a:2"]);
        await stop.CancelAsync();

        // An append that fails takes orderings that never fill: a feed passes over them once the gap timeout is up.
        await Assert.ThrowsAsync<PostgresException>(() => committer.Append(Table, [Row("a", 3), Row("a", 1)]));
        await committer.Append(Table, [Row("a", 3)]);
        var after = new List<string>();
        using var stopAfter = new CancellationTokenSource();
        var followingAfter = FollowAsync(system, connectionString, gapTimeout: TimeSpan.FromMilliseconds(500), after, stopAfter.Token);
        await EventuallyAsync(followingAfter, after, ["a:1", "b:1", "a:2", "a:3"]);
        await stopAfter.CancelAsync();
    }

    private static Task FollowAsync(Akka.Actor.ActorSystem system, string connectionString, TimeSpan gapTimeout, List<string> seen,
        CancellationToken stop) =>
        Task.Run(async () =>
        {
            await foreach (var chunk in Bank.Hosting.StateStore.PostgresJournalFeed.Follow((Akka.Actor.ExtendedActorSystem)system, connectionString,
                               Table, 0, _ => false, TimeSpan.FromMilliseconds(20), 1000, gapTimeout, stop))
                lock (seen) seen.AddRange(chunk.Select(e => $"{e.PersistenceId}:{e.SequenceNr}"));
        }, CancellationToken.None);

    /// <summary>Waits up to 30 s for the feed to have handed over exactly these events, in this order; any other order fails at once.</summary>
    private static Task EventuallyAsync(Task following, List<string> seen, string[] expected) =>
        Eventually.HoldsAsync(async () =>
        {
            if (following.IsFaulted) await following;
            lock (seen)
            {
                if (seen.SequenceEqual(expected)) return true;
                Assert.True(seen.Count < expected.Length && seen.SequenceEqual(expected.Take(seen.Count)),
                    $"the feed handed over [{string.Join(", ", seen)}], not a beginning of [{string.Join(", ", expected)}]");
                return false;
            }
        }, $"the feed to hand over [{string.Join(", ", expected)}]", interval: TimeSpan.FromMilliseconds(20));

    private static Task CreateJournalAsync(string connectionString) => ExecuteAsync(connectionString, """
        CREATE TABLE journal (ordering BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created BIGINT NOT NULL,
          deleted BOOLEAN NOT NULL, persistence_id TEXT NOT NULL, sequence_number BIGINT NOT NULL, message BYTEA NOT NULL,
          manifest TEXT NULL, identifier INTEGER NULL, writer_uuid TEXT NULL,
          CONSTRAINT journal_uq UNIQUE (persistence_id, sequence_number))
        """);

    /// <summary>`bank bench --json` of 20 accounts x 10 deposits on the database; it must exit 0.</summary>
    private static async Task<JsonObject> BenchAsync(string connectionString, string store)
    {
        var output = new StringWriter();
        var code = await BankCli.RunAsync(["bench", "--accounts", "20", "--ops", "10", "--warmup", "0", "--state-store", store,
            "--journal", "postgres", "--connection", connectionString, "--json"], output, new StringWriter());
        Assert.Equal(ExitCodes.Ok, code);
        return JsonNode.Parse(output.ToString())!.AsObject();
    }

    private static JournalEventRow Row(string persistenceId, long sequenceNr) =>
        new(persistenceId, sequenceNr, DateTime.UtcNow.Ticks, [1, 2, 3], "m", 1, "w");

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
