using System.CommandLine;
using Bank.Hosting;
using Bank.Hosting.Configuration;

namespace Bank.Nodes.Cli;

/// <summary>--journal, --data and --connection, over the defaults in hocon/persistence.hocon.</summary>
public static class JournalOptions
{
    /// <returns>The persistence options, and where the data lives, for people (never the connection's password).</returns>
    public static (BankPersistenceOptions Options, string Where) From(ParseResult parsed)
    {
        var defaults = BankConfiguration.Current.Config;
        var journal = parsed.GetValue(SharedOptions.Journal) ?? defaults.GetString("bank.persistence.journal", "sqlite");
        switch (journal)
        {
            case "sqlite":
                if (parsed.Has(SharedOptions.Connection))
                    throw new UsageException("--connection goes with --journal postgres; SQLite takes --data DIR");
                var data = DataFolder.Prepare(parsed.GetValue(SharedOptions.Data) ?? defaults.GetString("bank.persistence.data-directory", "data"));
                return (BankPersistenceOptions.Sqlite(data), data);
            case "postgres":
                if (parsed.Has(SharedOptions.Data))
                    throw new UsageException("--data goes with --journal sqlite; PostgreSQL takes --connection STRING");
                // The environment keeps the password out of argv, which every user of the machine can read (/proc/PID/cmdline).
                var connection = parsed.GetValue(SharedOptions.Connection) ?? ConnectionSecrets.FromEnvironment()
                    ?? defaults.GetString("bank.persistence.connection-string", string.Empty);
                if (string.IsNullOrWhiteSpace(connection))
                    throw new UsageException("--journal postgres needs a connection string: --connection \"Host=...;Database=...;Username=...\", " +
                                             $"or ${ConnectionSecrets.Variable}, or a file named by ${ConnectionSecrets.FileVariable}");
                return (BankPersistenceOptions.Postgres(connection), "PostgreSQL " + Describe(connection));
            default:
                throw new UsageException($"--journal must be sqlite or postgres, not '{Bank.Domain.TextEcho.OneLine(journal)}'");
        }
    }

    private static string Describe(string connection)
    {
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connection);
            return $"database '{builder.Database}' on {builder.Host}:{builder.Port}";
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"the PostgreSQL connection string is not valid: {ConnectionSecrets.Hide(e.Message)}");
        }
    }
}
