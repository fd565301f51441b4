using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Bank.Hosting.Configuration;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Npgsql;
using Bank.Hosting.Contracts;

namespace Bank.Hosting;

public enum JournalKind
{
    Sqlite,
    Postgres,
}

/// <summary>Where events and snapshots go: an embedded SQLite file (default) or a shared PostgreSQL database.</summary>
public sealed record BankPersistenceOptions(JournalKind Journal, string ConnectionString)
{
    public const string DatabaseFileName = "bank.db";

    /// <summary>SQLite at <c>DIR/bank.db</c>, created with its folder on first start.</summary>
    public static BankPersistenceOptions Sqlite(string dataDirectory) =>
        new(JournalKind.Sqlite, new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(dataDirectory, DatabaseFileName)),
            Pooling = true,
        }.ToString());

    public static BankPersistenceOptions Postgres(string connectionString)
    {
        ConnectionSecrets.Remember(connectionString);
        return new(JournalKind.Postgres, connectionString);
    }

    /// <summary>
    /// Fails fast, in one line, when the database cannot be reached: better than the journal's retries and stack traces.
    /// SQLite is prepared when the node is composed; this checks PostgreSQL.
    /// </summary>
    public async Task EnsureReachableAsync(CancellationToken cancellationToken = default)
    {
        if (Journal != JournalKind.Postgres) return;
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException or TimeoutException)
        {
            throw new JournalUnavailableException($"cannot reach the PostgreSQL journal: {ConnectionSecrets.Hide(e.Message)}", e);
        }
    }

    /// <summary>
    /// SQLite takes one process at a time: a second node on the same folder would race the first one's journal and
    /// release its sessions' actors as orphans. The lock file is held until the returned handle is disposed.
    /// </summary>
    public IDisposable? LockDataFolder()
    {
        if (Journal != JournalKind.Sqlite) return null;
        var folder = Path.GetDirectoryName(new SqliteConnectionStringBuilder(ConnectionString).DataSource) ?? ".";
        Directory.CreateDirectory(folder);
        try
        {
            return new FileStream(Path.Combine(folder, "bank.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new JournalUnavailableException($"the data folder {folder} is in use by another bank process", null);
        }
    }

    /// <summary>The choice made in configuration: <c>bank.persistence</c> in hocon/persistence.hocon.</summary>
    public static BankPersistenceOptions FromConfig(Config config)
    {
        var journal = config.GetString("bank.persistence.journal", "sqlite");
        return journal.ToLowerInvariant() switch
        {
            "sqlite" => Sqlite(config.GetString("bank.persistence.data-directory", "data")),
            "postgres" => Postgres(config.GetString("bank.persistence.connection-string", string.Empty) is { Length: > 0 } cs
                ? cs
                : throw new ArgumentException("bank.persistence.connection-string must be set when the journal is postgres")),
            _ => throw new ArgumentException($"bank.persistence.journal is '{journal}'; it must be sqlite or postgres"),
        };
    }
}

/// <summary>The journal's database cannot be reached or used.</summary>
public sealed class JournalUnavailableException(string message, Exception? inner) : Exception(message, inner);

public static class BankPersistenceHostingExtensions
{
    /// <summary>Akka.Persistence.Sql as the journal and snapshot store; tables are created on first start.</summary>
    public static AkkaConfigurationBuilder WithBankPersistence(this AkkaConfigurationBuilder builder, BankPersistenceOptions options)
    {
        var provider = options.Journal switch
        {
            JournalKind.Sqlite => ProviderName.SQLiteMS,
            JournalKind.Postgres => ProviderName.PostgreSQL15,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Journal, "Unknown journal kind"),
        };
        if (options.Journal == JournalKind.Sqlite)
            PrepareSqlite(options.ConnectionString);
        // Read before the plugin adds its generated settings: the node's own (hocon/, appsettings, environment, code).
        var config = builder.NodeConfig();

        builder.WithSqlPersistence(
            connectionString: options.Journal == JournalKind.Postgres ? WithTimeouts(options.ConnectionString, config) : options.ConnectionString,
            providerName: provider,
            mode: PersistenceMode.Both,
            autoInitialize: config.GetBoolean("akka.persistence.journal.sql.auto-initialize", true),
            pluginIdentifier: BankConstants.SqlPluginId,
            isDefaultPlugin: true);

        // The plugin's generated settings carry library defaults; the tunables in hocon/ win over them.
        var journal = config.GetConfig("akka.persistence.journal.sql");
        // The plugin reads (replays, queries) inside a transaction, which Microsoft.Data.Sqlite begins as BEGIN IMMEDIATE,
        // taking SQLite's write lock, unless it is read-uncommitted: then a deferred read of the WAL's last commit that
        // never waits for the writer nor holds it up (read_uncommitted itself only matters for a shared cache, unused here).
        var reads = options.Journal == JournalKind.Sqlite ? "read-isolation-level = read-uncommitted" : string.Empty;
        var tunables = ConfigurationFactory.ParseString(
            $$"""
              akka.persistence.journal.sql {
                class = "{{typeof(Journal.GroupCommitSqlJournal).AssemblyQualifiedName}}"
                group-commit-max-rows = {{journal.GetInt("group-commit-max-rows", 1000)}}
                parallelism = {{(options.Journal == JournalKind.Sqlite
                    ? journal.GetInt("parallelism", 1)
                    : config.GetInt("bank.persistence.postgres-parallelism", 4))}}
                batch-size = {{journal.GetInt("batch-size", 100)}}
                buffer-size = {{journal.GetInt("buffer-size", 5000)}}
                auto-initialize = {{(journal.GetBoolean("auto-initialize", true) ? "on" : "off")}}
                replay-filter.mode = {{journal.GetString("replay-filter.mode", "off")}}
                {{reads}}
                {{Breaker(journal)}}
                write-timeout = {{Millis(config.GetTimeSpan("bank.persistence.write-timeout", TimeSpan.FromSeconds(4)))}}
              }
              akka.persistence.query.journal.sql {
                {{reads}}
              }
              akka.persistence.snapshot-store.sql {
                class = "{{typeof(Journal.GroupCommitSqlSnapshotStore).AssemblyQualifiedName}}"
                {{reads}}
                {{Breaker(config.GetConfig("akka.persistence.snapshot-store.sql"))}}
              }
              """);
        return builder.AddHocon(tunables, HoconAddMode.Prepend);
    }

    /// <summary>
    /// The PostgreSQL connection string with the connect and command timeouts of hocon/persistence.hocon where it names
    /// none itself, so a stopped or frozen server holds no journal read longer than a client's call.
    /// </summary>
    /// <param name="config">The node's configuration; null: this process's (<see cref="BankConfiguration.Current"/>).</param>
    public static string WithTimeouts(string connectionString, Config? config = null)
    {
        var settings = config ?? BankConfiguration.Current.Config;
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!named.ContainsKey("Timeout") && !named.ContainsKey("Connect Timeout") && !named.ContainsKey("Connection Timeout"))
            builder.Timeout = Seconds("bank.persistence.connect-timeout", 15);
        if (!named.ContainsKey("Command Timeout") && !named.ContainsKey("CommandTimeout"))
            builder.CommandTimeout = Seconds("bank.persistence.command-timeout", 15);
        return builder.ConnectionString;

        int Seconds(string path, int fallback) =>
            Math.Max(1, (int)Math.Ceiling(settings.GetTimeSpan(path, TimeSpan.FromSeconds(fallback)).TotalSeconds));
    }

    /// <summary>The circuit breaker of a plugin as hocon/persistence.hocon sets it (see there why).</summary>
    private static string Breaker(Config plugin) =>
        $"circuit-breaker {{ max-failures = {plugin.GetInt("circuit-breaker.max-failures", 5)}, " +
        $"call-timeout = {Millis(plugin.GetTimeSpan("circuit-breaker.call-timeout", TimeSpan.FromSeconds(5)))}, " +
        $"reset-timeout = {Millis(plugin.GetTimeSpan("circuit-breaker.reset-timeout", TimeSpan.FromSeconds(2)))} }}";

    private static string Millis(TimeSpan span) => $"{(long)span.TotalMilliseconds}ms";

    /// <summary>Creates the database's folder and turns on WAL, which lets readers run beside the one writer.</summary>
    private static void PrepareSqlite(string connectionString)
    {
        var path = new SqliteConnectionStringBuilder(connectionString).DataSource;
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}
