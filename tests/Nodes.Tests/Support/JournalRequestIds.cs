using Npgsql;

namespace Bank.Nodes.Tests;

/// <summary>
/// Exactly-once, read straight from a PostgreSQL journal: how many events of the given manifests carry each request id
/// (an event's payload holds its request id as UTF-8 text). No id may be the beginning of another (give them a fixed
/// width or a GUID), or its count takes in the longer one's events.
/// </summary>
public static class JournalRequestIds
{
    /// <summary>For each of <paramref name="ids"/>, the number of journal rows of <paramref name="manifests"/> that hold it.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> CountAsync(string connectionString, string[] manifests, IReadOnlyCollection<string> ids)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand(
            "SELECT id, (SELECT COUNT(*) FROM journal j WHERE j.manifest = ANY(@manifests) AND position(convert_to(id, 'UTF8') in j.message) > 0) " +
            "FROM unnest(@ids) AS id", connection);
        count.Parameters.AddWithValue("manifests", manifests);
        count.Parameters.AddWithValue("ids", ids.ToArray());
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var rows = await count.ExecuteReaderAsync();
        while (await rows.ReadAsync()) counts[rows.GetString(0)] = rows.GetInt64(1);
        return counts;
    }

    /// <summary>How many journal rows there are of <paramref name="manifests"/>, whatever their ids.</summary>
    public static async Task<long> TotalAsync(string connectionString, string[] manifests)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var all = new NpgsqlCommand("SELECT COUNT(*) FROM journal WHERE manifest = ANY(@manifests)", connection);
        all.Parameters.AddWithValue("manifests", manifests);
        return (long)(await all.ExecuteScalarAsync())!;
    }
}
