using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Registry;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>`bank demo` as a new user runs it: a real process, on a data folder of its own.</summary>
public sealed class DemoSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Demo_prints_every_line_of_the_chapter_in_order_and_does_so_again_on_the_same_data()
    {
        foreach (var run in new[] { "first", "second" })
            DemoTranscript.AssertComplete(await BankProcess.RunAsync(Timeout, "demo", "--data", _data), run);

        Assert.True(File.Exists(Path.Combine(_data, "bank.db")));
    }

    [Fact]
    public async Task Demo_on_a_data_folder_in_use_by_another_bank_exits_1_with_one_line_naming_the_folder()
    {
        Directory.CreateDirectory(_data);
        // Holds the lock a running bank holds on its data folder.
        using var held = new FileStream(Path.Combine(_data, "bank.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        var result = await BankProcess.RunAsync(Timeout, "demo", "--data", _data);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal([$"error: the data folder {_data} is in use by another bank process"], result.ErrorLines);
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("INFO ::", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Demo_kills_a_detached_Account_left_alive_by_an_interrupted_run_and_then_runs_the_chapter()
    {
        ActorInfo leftover;
        await using (var node = await BankHost.StartAsync(new BankNodeOptions { Port = 0, Persistence = BankPersistenceOptions.Sqlite(_data) }))
        {
            await using var session = new BankSession(node.Gateway);
            leftover = await session.OpenAsync("Account", new AccountOptions(5m, 0m) { Detached = true });
        }

        SqliteConnection.ClearAllPools();

        var result = await BankProcess.RunAsync(Timeout, "demo", "--data", _data);

        DemoTranscript.AssertComplete(result, "after an interrupted run");
        Assert.Contains($"# Killed Actor(Account, {leftover.Id}), a detached 'Account' left alive by an interrupted earlier run", result.Lines);
    }

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
