using Bank.Hosting.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>The effective configuration of a running node with the embedded SQLite journal (DESIGN.md §6).</summary>
public class NodeConfigurationSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public void Sqlite_journal_writes_with_a_single_writer()
    {
        Assert.Equal(1, Sys.Settings.Config.GetInt("akka.persistence.journal.sql.parallelism"));
    }

    [Fact]
    public void Journal_tunables_come_from_the_hocon_defaults()
    {
        var journal = Sys.Settings.Config.GetConfig("akka.persistence.journal.sql");

        Assert.Equal(100, journal.GetInt("batch-size"));
        Assert.Equal(5000, journal.GetInt("buffer-size"));
    }

    [Fact]
    public void Akkas_fallback_logger_before_and_after_the_nodes_loggers_writes_nothing()
    {
        // The level alone (stdout-loglevel = OFF) let a TLS handshake report reach stdout as a refused worker stopped.
        Assert.IsType<SilentStdoutLogger>(Sys.Settings.StdoutLogger);
    }

    [Fact]
    public void Sql_plugin_is_the_default_journal_and_snapshot_store()
    {
        Assert.Equal("akka.persistence.journal.sql", Sys.Settings.Config.GetString("akka.persistence.journal.plugin"));
        Assert.Equal("akka.persistence.snapshot-store.sql", Sys.Settings.Config.GetString("akka.persistence.snapshot-store.plugin"));
    }

    [Fact]
    public void Journal_and_snapshot_store_use_the_database_in_the_node_data_directory()
    {
        // Written out here, not asked of BankPersistenceOptions: the file the design card names, in the node's folder.
        var expected = Path.Combine(Fixture.Data.Path, "bank.db");

        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            var configured = Sys.Settings.Config.GetString($"{plugin}.connection-string");
            Assert.Equal(Fixture.Data.Persistence.ConnectionString, configured);
            Assert.Equal(expected, new SqliteConnectionStringBuilder(configured).DataSource);
        }
    }

    [Fact]
    public async Task Database_file_is_created_in_the_data_directory_in_WAL_mode()
    {
        Assert.True(File.Exists(Fixture.Data.DatabaseFile), $"{Fixture.Data.DatabaseFile} was not created");

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Fixture.Data.DatabaseFile,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await connection.OpenAsync();
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", await pragma.ExecuteScalarAsync());
    }
}
