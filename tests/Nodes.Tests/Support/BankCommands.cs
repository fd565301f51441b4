using System.Text.Json.Nodes;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>Client commands of the real `bank` executable against one cluster address (`--address HOST:PORT`).</summary>
/// <param name="diagnostics">Appended to failure messages, e.g. the end of the nodes' output.</param>
public sealed class BankCommands(string address, Func<string>? diagnostics = null)
{
    /// <summary>A client command takes about a second; the client's own ask timeout is 15 s.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public string Address { get; } = address;

    public Task<BankProcess.Result> RunAsync(params string[] args) => RunWithinAsync(Timeout, args);

    /// <exception cref="TimeoutException">The command was still running after <paramref name="timeout"/> (it is killed).</exception>
    public Task<BankProcess.Result> RunWithinAsync(TimeSpan timeout, params string[] args) =>
        BankProcess.RunAsync(timeout, [.. args, "--address", Address]);

    /// <summary>Runs the command, checks that it succeeded quietly, and returns its one stdout line.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        AssertOk(result, args, diagnostics);
        return Assert.Single(result.Lines);
    }

    /// <summary>Runs the command with --json, checks that it succeeded, and returns its one JSON object.</summary>
    public async Task<JsonObject> JsonAsync(params string[] args)
    {
        var result = await RunAsync([.. args, "--json"]);
        AssertOk(result, [.. args, "--json"], diagnostics);
        return ParseOne(result);
    }

    /// <summary>How long a spec waits for the state store to show a write: it lags the journal by about a second.</summary>
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs the command with --json again until <paramref name="done"/> holds for its object, within
    /// <see cref="StoreTimeout"/>: for what the state store shows, which takes in a write up to about a second late.
    /// </summary>
    public async Task<JsonObject> JsonWhenAsync(Func<JsonObject, bool> done, params string[] args)
    {
        try
        {
            return await Eventually.ReadsAsync(() => JsonAsync(args), done, $"bank {Describe(args)} --json to show what the spec waits for",
                StoreTimeout, show: json => json.ToJsonString());
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException(timeout.Message + diagnostics?.Invoke(), timeout);
        }
    }

    /// <summary>`bank list --json`, asked again until the named actors show these balances (from the state store).</summary>
    public Task<JsonObject> ListWhenStoredAsync(params (string Name, decimal Balance)[] balances) =>
        JsonWhenAsync(list => balances.All(b => StoredBalance(list, b.Name) == b.Balance), "list");

    /// <summary>The balance `bank list --json` gives the named live actor; null when it has none (or is not listed).</summary>
    public static decimal? StoredBalance(JsonObject list, string name) =>
        list["actors"] is JsonArray actors && actors.FirstOrDefault(a => (string?)a?["name"] == name && (string?)a["state"] != "DEAD") is { } actor
            && actor["balance"] is JsonValue balance
            ? balance.GetValue<decimal>()
            : null;

    public static void AssertOk(BankProcess.Result result, IEnumerable<string> args, Func<string>? diagnostics = null)
    {
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0,
            $"bank {Describe(args)} exited {result.ExitCode}\nstdout: {result.Stdout}\nstderr: {result.Stderr}{diagnostics?.Invoke()}");
    }

    /// <summary>Runs <paramref name="action"/> for each item, at most <paramref name="limit"/> at a time, in order of the items.</summary>
    /// <remarks>Each client command is a process that starts an actor system: a few at once keep two cores busy.</remarks>
    public static async Task<TResult[]> LimitedAsync<T, TResult>(IEnumerable<T> items, int limit, Func<T, Task<TResult>> action)
    {
        using var gate = new SemaphoreSlim(limit);
        return await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                return await action(item);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>Exactly one JSON object on stdout, and nothing else.</summary>
    public static JsonObject ParseOne(BankProcess.Result result)
    {
        var line = Assert.Single(result.Lines);
        return Assert.IsType<JsonObject>(JsonNode.Parse(line));
    }

    /// <summary>A failure as a user sees it: the exit code, one `error: ...` line on stderr, nothing on stdout.</summary>
    public static string AssertOneLineError(BankProcess.Result result, int exitCode, string because)
    {
        Assert.True(result.ExitCode == exitCode, $"{because}: exit {result.ExitCode}, expected {exitCode}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        Assert.True(result.Stdout.Length == 0, $"{because}: unexpected stdout: {result.Stdout}");
        var error = result.Stderr.TrimEnd('\r', '\n');
        Assert.True(!error.Contains('\n'), $"{because}: more than one line on stderr:\n{result.Stderr}");
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain("Exception", error);
        Assert.DoesNotContain("   at ", error);
        return error;
    }

    /// <summary>A --json failure: exactly one {"error":{"kind","message"}} object on stdout, nothing on stderr.</summary>
    public static (string Kind, string Message) AssertJsonError(BankProcess.Result result, int exitCode, string because)
    {
        var error = AssertJsonErrorObject(result, exitCode, because);
        return (error["kind"]!.GetValue<string>(), error["message"]!.GetValue<string>());
    }

    /// <summary>
    /// The error object of a --json failure: kind and message, and with OutcomeUnknown what to resend with (request_id,
    /// first_sent); nothing else, and nothing on stderr.
    /// </summary>
    public static JsonObject AssertJsonErrorObject(BankProcess.Result result, int exitCode, string because)
    {
        Assert.True(result.ExitCode == exitCode, $"{because}: exit {result.ExitCode}, expected {exitCode}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        Assert.True(result.Stderr.Length == 0, $"{because}: unexpected stderr: {result.Stderr}");
        var json = ParseOne(result);
        var error = Assert.IsType<JsonObject>(Assert.Single(json).Value);
        Assert.Equal("error", Assert.Single(json).Key);
        var keys = error.Select(p => p.Key).ToList();
        Assert.Contains("kind", keys);
        Assert.Contains("message", keys);
        Assert.Empty(keys.Except(["kind", "message", "request_id", "first_sent"]));
        Assert.True(error["kind"]!.GetValue<string>() == "OutcomeUnknown" || !keys.Contains("request_id"), $"{because}: a request_id outside OutcomeUnknown");
        return error;
    }

    private static string Describe(IEnumerable<string> args) =>
        string.Join(' ', args.Select(a => a.Length > 40 ? a[..40] + "..." : a));
}
