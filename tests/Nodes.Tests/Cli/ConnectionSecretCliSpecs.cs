using Bank.Nodes.Cli;
using Bank.Testing;
using Npgsql;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// The PostgreSQL password stays out of argv and out of every line a node or a command prints (DESIGN.md section 8):
/// the connection string comes from $BANK__CONNECTION or the file named by $BANK__CONNECTION_FILE, or the password
/// from PostgreSQL's own PGPASSFILE, and failures quote it masked.
/// </summary>
public sealed class ConnectionSecretCliSpecs
{
    private static readonly string[] HeadWithPostgres = ["start", "--head", "--port", "0", "--no-dashboard", "--journal", "postgres"];

    [SkippableFact]
    public async Task A_node_given_its_connection_string_in_a_file_shows_the_password_nowhere()
    {
        await using var database = await PostgresDatabase.CreateWithOwnRoleAsync(PostgresDatabase.RequireConnectionString());
        var password = database.Password!;
        using var secret = SecretFile.Holding(database.ConnectionString + "\n");

        await using var node = await BankProcess.StartNodeAsync("a head with its connection string in a file",
            new Dictionary<string, string?> { ["BANK__CONNECTION_FILE"] = secret.Path }, HeadWithPostgres);
        var bank = new BankCommands(node.Address, node.Tail);
        await bank.OkAsync("open", "secret-alice", "--balance", "5");
        Assert.Equal("7.0", await bank.OkAsync("deposit", "secret-alice", "2"));
        var commandLine = OperatingSystem.IsLinux() ? await File.ReadAllTextAsync($"/proc/{node.Pid}/cmdline") : "";
        Assert.Equal(0, await node.StopAsync());

        Assert.DoesNotContain(password, commandLine);
        Assert.Contains("--journal", commandLine);
        Assert.DoesNotContain(password, node.Stdout);
        Assert.DoesNotContain(password, node.Stderr);
    }

    [SkippableFact]
    public async Task A_connection_string_without_a_password_takes_it_from_PGPASSFILE()
    {
        await using var database = await PostgresDatabase.CreateWithOwnRoleAsync(PostgresDatabase.RequireConnectionString());
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        using var passfile = SecretFile.Holding($"{builder.Host}:{builder.Port}:{builder.Database}:{builder.Username}:{database.Password}\n");
        builder.Password = null;

        await using var node = await BankProcess.StartNodeAsync("a head whose password is in PGPASSFILE",
            new Dictionary<string, string?> { ["BANK__CONNECTION"] = builder.ConnectionString, ["PGPASSFILE"] = passfile.Path }, HeadWithPostgres);
        var bank = new BankCommands(node.Address, node.Tail);
        await bank.OkAsync("open", "passfile-alice", "--balance", "5");
        Assert.Equal(0, await node.StopAsync());

        Assert.DoesNotContain(database.Password!, node.Stdout + node.Stderr);
    }

    [SkippableFact]
    public async Task A_wrong_password_is_one_line_with_exit_1_and_the_password_masked()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresDatabase.RequireConnectionString()) { Password = "wrong-" + Guid.NewGuid().ToString("N") };

        var result = await BankProcess.RunAsync(BankCommands.Timeout,
            new Dictionary<string, string?> { ["BANK__CONNECTION"] = builder.ConnectionString }, HeadWithPostgres);

        AssertOneMaskedLine(result, builder.Password);
    }

    [Fact]
    public async Task A_database_that_is_down_is_one_line_with_exit_1_and_the_password_masked()
    {
        var password = "down-" + Guid.NewGuid().ToString("N");
        var connection = $"Host=127.0.0.1;Port={FreePort.Next()};Database=bank;Username=bank;Password={password};Timeout=5";
        using var secret = SecretFile.Holding(connection);

        var result = await BankProcess.RunAsync(BankCommands.Timeout,
            new Dictionary<string, string?> { ["BANK__CONNECTION_FILE"] = secret.Path }, HeadWithPostgres);

        AssertOneMaskedLine(result, password);
    }

    [Fact]
    public async Task A_connection_string_on_the_command_line_is_masked_in_its_usage_error()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await BankCli.RunAsync(["demo", "--journal", "postgres", "--connection", "Host=db;Password=s3cret-pw;Frobnicate=1"], output, error);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("error: the PostgreSQL connection string is not valid: ", error.ToString());
        Assert.DoesNotContain("s3cret-pw", error.ToString());
    }

    [Fact]
    public async Task A_connection_file_that_cannot_be_read_is_one_line_naming_the_variable()
    {
        var missing = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

        var result = await BankProcess.RunAsync(BankCommands.Timeout,
            new Dictionary<string, string?> { ["BANK__CONNECTION_FILE"] = missing }, HeadWithPostgres);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith($"error: cannot read the connection string from {missing} ($BANK__CONNECTION_FILE)", line);
    }

    private static void AssertOneMaskedLine(BankProcess.Result result, string password)
    {
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: cannot reach the PostgreSQL journal: ", line);
        Assert.DoesNotContain(password, result.Stdout + result.Stderr);
        Assert.Empty(result.Stdout);
    }

    /// <summary>A file only its owner reads (as a secret should be), deleted afterwards.</summary>
    private sealed class SecretFile : IDisposable
    {
        private SecretFile(string path) => Path = path;

        public string Path { get; }

        public static SecretFile Holding(string contents)
        {
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bank-secret-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(path, contents);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return new SecretFile(path);
        }

        public void Dispose() => File.Delete(Path);
    }
}

/// <summary>Every error line of `bank`, text or JSON, goes out with passwords masked, whatever the failure quoted.</summary>
public sealed class MaskedErrorLineSpecs
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_error_quoting_a_connection_string_is_printed_masked(bool json)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        new Output(stdout, stderr, json).Error(Bank.Hosting.Contracts.ErrorKind.ClusterUnreachable, "cannot open Host=db;Password=s3cret-pw", ExitCodes.Failure);

        var printed = stdout + stderr.ToString();
        Assert.DoesNotContain("s3cret-pw", printed);
        Assert.Contains("Password=***", printed);
    }
}
