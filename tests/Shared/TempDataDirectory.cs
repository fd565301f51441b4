using Bank.Hosting;
using Microsoft.Data.Sqlite;

namespace Bank.Testing;

/// <summary>A data folder of its own for one node or one test class, deleted afterwards.</summary>
public sealed class TempDataDirectory : IDisposable
{
    public string Path { get; } =
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

    public BankPersistenceOptions Persistence => BankPersistenceOptions.Sqlite(Path);

    public string DatabaseFile => System.IO.Path.Combine(Path, BankPersistenceOptions.DatabaseFileName);

    public void Dispose()
    {
        // Pooled connections keep the file open, which would block the delete on Windows.
        using (var connection = new SqliteConnection(Persistence.ConnectionString))
            SqliteConnection.ClearPool(connection);
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
