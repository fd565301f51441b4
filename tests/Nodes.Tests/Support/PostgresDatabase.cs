using Npgsql;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// A fresh PostgreSQL database for one test, created through the connection string in BANK_TEST_POSTGRES (its role
/// needs CREATEDB) and dropped afterwards, so runs never see each other's journals.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string Variable = "BANK_TEST_POSTGRES";

    public const string SkipReason =
        "BANK_TEST_POSTGRES is not set: these tests start a head and a worker sharing a PostgreSQL journal; set it to an " +
        "Npgsql connection string of a role with CREATEDB (.ci/run installs PostgreSQL and sets it)";

    private readonly string _admin;

    private PostgresDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>The connection string of the new database, for `--connection`.</summary>
    public string ConnectionString { get; }

    /// <summary>Skips the calling test, with the reason, where BANK_TEST_POSTGRES is not set.</summary>
    public static string RequireConnectionString()
    {
        var connection = Environment.GetEnvironmentVariable(Variable);
        Skip.If(string.IsNullOrEmpty(connection), SkipReason);
        return connection!;
    }

    public static async Task<PostgresDatabase> CreateAsync(string connectionString)
    {
        var name = "bank_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        // The nodes pool their connections, as a real deployment does (without a pool every journal write opens a new
        // authenticated connection, and a 2-core machine spends its time in TLS and SCRAM); FORCE on drop ends them.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = name, Pooling = true };
        return new PostgresDatabase(connectionString, name, builder.ConnectionString);
    }

    /// <summary>The role that owns the database when it has one of its own (<see cref="CreateWithOwnRoleAsync"/>).</summary>
    public string? Role { get; private init; }

    /// <summary>The password of <see cref="Role"/>: random, so that a spec can look for it in any output.</summary>
    public string? Password { get; private init; }

    /// <summary>
    /// A fresh database owned by a fresh role with a random password (the BANK_TEST_POSTGRES role needs CREATEROLE, which
    /// .ci/run grants); <see cref="ConnectionString"/> logs in as that role.
    /// </summary>
    public static async Task<PostgresDatabase> CreateWithOwnRoleAsync(string connectionString)
    {
        var suffix = Guid.NewGuid().ToString("N");
        var name = "bank_test_" + suffix;
        var role = "bank_role_" + suffix;
        var password = "pw-" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            foreach (var statement in new[]
                     {
                         $"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'", $"GRANT \"{role}\" TO CURRENT_USER",
                         $"CREATE DATABASE \"{name}\" OWNER \"{role}\"",
                     })
            {
                await using var command = new NpgsqlCommand(statement, connection);
                await command.ExecuteNonQueryAsync();
            }
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = name, Username = role, Password = password, Pooling = true };
        return new PostgresDatabase(connectionString, name, builder.ConnectionString) { Role = role, Password = password };
    }

    /// <summary>Tries of the drop while an autovacuum worker holds the database: half a second apart, 30 s in all.</summary>
    private const int DropAttempts = 60;

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        // FORCE ends the connections a killed node may have left behind (PostgreSQL 13 and later). An autovacuum worker in
        // the database is no role's, so a user without pg_signal_backend cannot end it: wait for it to finish instead.
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await drop.ExecuteNonQueryAsync();
                break;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < DropAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }

        if (Role is null) return;
        await using var dropRole = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{Role}\"", connection);
        await dropRole.ExecuteNonQueryAsync();
    }
}
