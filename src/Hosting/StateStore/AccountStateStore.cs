using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Bank.Hosting.Contracts;
using Bank.Hosting.Journal;
using Npgsql;

namespace Bank.Hosting.StateStore;

/// <summary>
/// The query-side state store: one row per account (key, name, balance, minimal balance, version, updated at) in the
/// journal's own database, SQLite or PostgreSQL, and the offset of the journal the store has caught up to. Writes are
/// idempotent and never go backwards: a row takes an update only if its version is newer, so updates may arrive
/// twice and in any order.
/// </summary>
public sealed class AccountStateStore(BankPersistenceOptions options)
{
    public const string Table = "bank_account_state";
    public const string OffsetTable = "bank_projection_offset";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> Created = new(StringComparer.Ordinal);

    private const int SliceRows = 100;

    private bool Postgres => options.Journal == JournalKind.Postgres;

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        var money = Postgres ? "NUMERIC" : "TEXT";
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, $"""
            CREATE TABLE IF NOT EXISTS {Table} (
              key TEXT PRIMARY KEY,
              name TEXT NULL,
              balance {money} NOT NULL,
              minimal_balance {money} NULL,
              version BIGINT NOT NULL,
              updated_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS {OffsetTable} (
              projection TEXT PRIMARY KEY,
              journal_offset BIGINT NOT NULL);
            """, cancellationToken);
    }

    /// <summary>
    /// Writes the rows in one transaction; each row only where it is newer than what the store has. On SQLite the
    /// write goes through the database's one writer (<see cref="SqliteGroupCommitter"/>) when this process runs it,
    /// between the journal's group commits, instead of contending with them for SQLite's write lock.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<AccountRow> rows, CancellationToken cancellationToken = default)
    {
        // A worker may write before the feed, which creates the tables, has started.
        await Created.GetOrAdd(options.ConnectionString, _ => EnsureCreatedAsync(CancellationToken.None));
        if (!Postgres && SqliteGroupCommitter.Running(options.ConnectionString) is { } writer)
        {
            // A slice at a time, each in the next group commit: the journal's writes queued meanwhile wait for one
            // slice's upserts (a few milliseconds), not for the whole batch's.
            foreach (var slice in rows.Chunk(SliceRows))
            {
                await writer.Execute((connection, transaction) =>
                {
                    // One prepared statement per kind of row for the whole slice: SQLite parses each only once.
                    using var balances = Upsert(connection, transaction, BalanceRow);
                    using var names = Upsert(connection, transaction, NameRow);
                    foreach (var row in slice)
                    {
                        var command = IsName(row) ? names : balances;
                        Bind(command, row);
                        command.ExecuteNonQuery();
                    }
                }, weight: slice.Length);
            }

            return;
        }

        await using var own = await OpenAsync(cancellationToken);
        await using var ownTransaction = await own.BeginTransactionAsync(cancellationToken);
        // On PostgreSQL the balances go in one statement (one round trip and one plan for the batch), the rest row by row.
        var batched = Postgres ? rows.Where(r => !IsName(r) && r.Balance is not null).ToList() : [];
        // One statement may not update a row twice: a batch with a key twice goes row by row.
        if (batched.Select(r => r.Key).Distinct(StringComparer.Ordinal).Count() != batched.Count) batched.Clear();
        if (batched.Count > 0)
            await UpsertBalancesAsync((NpgsqlConnection)own, (NpgsqlTransaction)ownTransaction, batched, cancellationToken);
        foreach (var row in batched.Count > 0 ? rows.Except(batched) : rows)
        {
            await using var command = Upsert(own, ownTransaction, row);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await ownTransaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Account rows with a balance, one per key, upserted by one statement over arrays, in the rows' order (key order:
    /// concurrent workers lock rows in the same order); the same rules as <see cref="Upsert"/>.
    /// </summary>
    private static async Task UpsertBalancesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<AccountRow> rows,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            INSERT INTO {Table} AS s (key, name, balance, minimal_balance, version, updated_at)
            SELECT * FROM unnest(@keys, @names, @balances, @minimals, @versions, @ats)
            ON CONFLICT (key) DO UPDATE SET
              balance = CASE WHEN excluded.version > s.version THEN excluded.balance ELSE s.balance END,
              updated_at = CASE WHEN excluded.version > s.version THEN excluded.updated_at ELSE s.updated_at END,
              version = GREATEST(excluded.version, s.version),
              minimal_balance = COALESCE(excluded.minimal_balance, s.minimal_balance),
              name = COALESCE(s.name, excluded.name)
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = rows.Select(r => r.Key).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("names", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = rows.Select(r => r.Name).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("balances", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Numeric) { Value = rows.Select(r => r.Balance!.Value).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("minimals", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Numeric) { Value = rows.Select(r => r.MinimalBalance).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("versions", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint) { Value = rows.Select(r => r.Version).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("ats", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text)
        {
            Value = rows.Select(r => r.UpdatedAt.ToString("O", CultureInfo.InvariantCulture)).ToArray(),
        });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static readonly AccountRow BalanceRow = new("", 1, 0m, null, null, DateTimeOffset.UnixEpoch);
    private static readonly AccountRow NameRow = new("", 0, null, null, null, DateTimeOffset.UnixEpoch);

    // A name comes from the registry's journal, not the account's: it sets the name alone, and may come first.
    private static bool IsName(AccountRow row) => row.Balance is null && row.MinimalBalance is null && row.Version == 0;

    private DbCommand Upsert(DbConnection connection, DbTransaction transaction, AccountRow row)
    {
        var command = IsName(row)
            ? Command(connection, transaction, $"""
                INSERT INTO {Table} (key, name, balance, minimal_balance, version, updated_at) VALUES (@key, @name, @balance, NULL, 0, @at)
                ON CONFLICT (key) DO UPDATE SET name = excluded.name
                """, ("@key", null), ("@name", null), ("@balance", null), ("@at", null))
            // Insert, or take the newer version's balance; the minimal balance and name are kept once known.
            : Command(connection, transaction, $"""
                INSERT INTO {Table} (key, name, balance, minimal_balance, version, updated_at)
                VALUES (@key, @name, @balance, @minimal, @version, @at)
                ON CONFLICT (key) DO UPDATE SET
                  balance = CASE WHEN excluded.version > {Table}.version AND @hasBalance = 1 THEN excluded.balance ELSE {Table}.balance END,
                  updated_at = CASE WHEN excluded.version > {Table}.version THEN excluded.updated_at ELSE {Table}.updated_at END,
                  version = CASE WHEN excluded.version > {Table}.version THEN excluded.version ELSE {Table}.version END,
                  minimal_balance = COALESCE(excluded.minimal_balance, {Table}.minimal_balance),
                  name = COALESCE({Table}.name, excluded.name)
                """,
                ("@key", null), ("@name", null), ("@balance", null), ("@minimal", null), ("@version", null), ("@at", null), ("@hasBalance", null));
        Bind(command, row);
        return command;
    }

    private void Bind(DbCommand command, AccountRow row)
    {
        void Set(string name, object? value) => command.Parameters[name].Value = value ?? DBNull.Value;
        Set("@key", row.Key);
        Set("@name", row.Name);
        Set("@at", row.UpdatedAt.ToString("O", CultureInfo.InvariantCulture));
        if (IsName(row))
        {
            Set("@balance", Money(0m));
            return;
        }

        Set("@balance", Money(row.Balance ?? 0m));
        Set("@minimal", Money(row.MinimalBalance));
        Set("@version", row.Version);
        Set("@hasBalance", row.Balance is null ? 0 : 1);
    }

    /// <summary>The journal offset (ordering) the projection has stored everything up to; 0 when it never ran.</summary>
    public async Task<long> ReadOffsetAsync(string projection, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT journal_offset FROM {OffsetTable} WHERE projection = @p", ("@p", projection));
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0L;
    }

    public async Task WriteOffsetAsync(string projection, long offset, CancellationToken cancellationToken = default)
    {
        var sql = $"""
            INSERT INTO {OffsetTable} (projection, journal_offset) VALUES (@p, @o)
            ON CONFLICT (projection) DO UPDATE SET journal_offset = CASE WHEN excluded.journal_offset > {OffsetTable}.journal_offset
              THEN excluded.journal_offset ELSE {OffsetTable}.journal_offset END
            """;
        if (!Postgres && SqliteGroupCommitter.Running(options.ConnectionString) is { } writer)
        {
            await writer.Execute((connection, transaction) =>
            {
                using var command = Command(connection, transaction, sql, ("@p", projection), ("@o", offset));
                command.ExecuteNonQuery();
            });
            return;
        }

        await using var own = await OpenAsync(cancellationToken);
        await ExecuteAsync(own, null, sql, cancellationToken, ("@p", projection), ("@o", offset));
    }

    /// <summary>The stored rows of these accounts (all of them when <paramref name="keys"/> is null).</summary>
    public async Task<IReadOnlyList<StoredAccount>> ReadAsync(IReadOnlyCollection<string>? keys, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = new List<StoredAccount>();
        foreach (var chunk in keys is null ? [null] : keys.Chunk(500).Select(c => (string[]?)c))
        {
            var where = chunk is null ? string.Empty : $" WHERE key IN ({string.Join(", ", chunk.Select((_, i) => $"@k{i}"))})";
            await using var command = Command(connection, null,
                $"SELECT key, name, balance, minimal_balance, version, updated_at FROM {Table}{where}",
                chunk?.Select((k, i) => ($"@k{i}", (object?)k)).ToArray() ?? []);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new StoredAccount(
                    reader.GetString(0),
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    ReadMoney(reader, 2) ?? 0m,
                    ReadMoney(reader, 3),
                    reader.GetInt64(4),
                    DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
            }
        }

        return rows;
    }

    /// <summary>The newest offset in the journal: how far the store could be.</summary>
    public async Task<long> JournalHeadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT MAX(ordering) FROM journal");
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0L;
    }

    private object? Money(decimal? amount) =>
        amount is not { } value ? null : Postgres ? value : value.ToString(CultureInfo.InvariantCulture);

    private static decimal? ReadMoney(DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? null
        : reader.GetValue(column) is decimal value ? value
        : decimal.Parse(Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture)!, NumberStyles.Number, CultureInfo.InvariantCulture);

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = Postgres ? new NpgsqlConnection(options.ConnectionString) : new SqliteConnection(options.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
