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
        var output = new StringWriter();
        var code = await BankCli.RunAsync(["bench", "--accounts", "20", "--ops", "10", "--state-store", "off",
            "--journal", "postgres", "--connection", database.ConnectionString, "--json"], output, new StringWriter());

        Assert.Equal(ExitCodes.Ok, code);
        var summary = JsonNode.Parse(output.ToString())!.AsObject();
        Assert.Equal((true, 200), ((bool)summary["verified"]!, (int)summary["ops"]!));
        Assert.Equal(200L, await ScalarAsync(database.ConnectionString, "SELECT COUNT(*) FROM journal WHERE manifest = 'deposited'"));
    }

    [SkippableFact]
    public async Task An_append_that_fails_fails_alone()
    {
        await using var database = await PostgresDatabase.CreateAsync(PostgresDatabase.RequireConnectionString());
        await ExecuteAsync(database.ConnectionString, """
            CREATE TABLE journal (ordering BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created BIGINT NOT NULL,
              deleted BOOLEAN NOT NULL, persistence_id TEXT NOT NULL, sequence_number BIGINT NOT NULL, message BYTEA NOT NULL,
              manifest TEXT NULL, identifier INTEGER NULL, writer_uuid TEXT NULL,
              CONSTRAINT journal_uq UNIQUE (persistence_id, sequence_number))
            """);
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
