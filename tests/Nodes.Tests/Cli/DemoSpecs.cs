using Bank.Hosting.Contracts;
using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>`bank demo` as a new user runs it: a real process, on a data folder of its own.</summary>
public sealed class DemoSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly TempDataDirectory _folder = new();
    private readonly string _data;

    public DemoSpecs() => _data = _folder.Path;

    [Fact]
    public async Task Demo_prints_the_READMEs_transcript_line_by_line_and_does_so_again_on_the_same_data()
    {
        foreach (var run in new[] { "first", "second" })
            DemoTranscript.AssertComplete(await BankProcess.RunAsync(Timeout, "demo", "--data", _data), run, _data);

        Assert.True(File.Exists(Path.Combine(_data, "bank.db")));
    }

    [Fact]
    public void The_READMEs_transcript_is_what_a_complete_run_prints_and_a_changed_line_is_caught()
    {
        // The README's own block as a run's output, the varying parts as another run would print them.
        var readme = DemoTranscript.Readme();
        var printed = string.Join('\n', readme).Replace(DemoTranscript.ReadmeDataFolder, _data, StringComparison.Ordinal)
            .Replace("127.0.0.1:", "10.0.0.7:", StringComparison.Ordinal) + "\n";
        DemoTranscript.AssertComplete(new BankProcess.Result(0, printed, ""), "the README's", _data);

        var drifted = printed.Replace("Balance after Withdraw: 33.0", "Balance after Withdraw: 34.0", StringComparison.Ordinal);
        Assert.NotEqual(printed, drifted);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            DemoTranscript.AssertComplete(new BankProcess.Result(0, drifted, ""), "a drifted", _data));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            DemoTranscript.AssertComplete(new BankProcess.Result(0, printed.Replace("INFO :: Actor killed\n", "", StringComparison.Ordinal), ""), "a shorter", _data));
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
        await using (var node = await InProcessCluster.StartAsync(data: _folder))
        {
            await using var session = node.NewSession();
            leftover = await session.OpenAsync("Account", new AccountOptions(5m, 0m) { Detached = true });
        }

        SqliteConnection.ClearAllPools();

        var result = await BankProcess.RunAsync(Timeout, "demo", "--data", _data);

        DemoTranscript.AssertComplete(result, "after an interrupted run", _data);
        Assert.Contains($"# Killed Actor(Account, {leftover.Id}), a detached 'Account' left alive by an interrupted earlier run", result.Lines);
    }

    public void Dispose() => _folder.Dispose();
}
