using Akka.Event;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>No password of a connection string reaches output or logs (DESIGN.md section 8).</summary>
public sealed class ConnectionSecretsSpecs
{
    [Theory]
    [InlineData("Host=db;Username=bank;Password=s3cret;Database=bank", "Host=db;Username=bank;Password=***;Database=bank")]
    [InlineData("Host=db;password = s3cret", "Host=db;password=***")]
    [InlineData("PWD=s3cret;Host=db", "PWD=***;Host=db")]
    [InlineData("Password=\"se;cr\"\"et\";Host=db", "Password=***;Host=db")]
    [InlineData("Password='se;cr''et';Host=db", "Password=***;Host=db")]
    [InlineData("failed: Host=db;Password=s3cret", "failed: Host=db;Password=***")]
    [InlineData("Host=db;Username=bank", "Host=db;Username=bank")]
    [InlineData("Host=db;Password=", "Host=db;Password=***")]
    public void Password_pairs_are_masked_quoted_or_not(string text, string expected) =>
        Assert.Equal(expected, ConnectionSecrets.Hide(text, []));

    [Fact]
    public void A_known_password_is_masked_wherever_it_is_quoted() =>
        Assert.Equal("authentication for *** failed; Pass***word", ConnectionSecrets.Hide("authentication for s3cret failed; Passs3cretword", ["s3cret"]));

    [Fact]
    public void A_remembered_connection_strings_password_is_masked_in_any_text()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        ConnectionSecrets.Remember($"Host=db;Username=bank;Password='{password}'");

        Assert.Equal("the server said *** is wrong", ConnectionSecrets.Hide($"the server said {password} is wrong"));
    }

    [Fact]
    public void A_short_password_is_masked_only_as_a_password_pair_so_that_words_like_bank_stay_readable()
    {
        ConnectionSecrets.Remember("Host=db;Username=bank;Password=bank");

        Assert.Equal("akka.tcp://bank@127.0.0.1:4053 Password=***", ConnectionSecrets.Hide("akka.tcp://bank@127.0.0.1:4053 Password=bank"));
    }

    [Fact]
    public void The_connection_string_comes_from_the_variable_else_from_the_file_it_names()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "Host=db;Password=from-file\n");
            Assert.Equal("Host=db;Password=direct", ConnectionSecrets.FromEnvironment(Variables(("BANK__CONNECTION", "Host=db;Password=direct"),
                ("BANK__CONNECTION_FILE", file))));
            Assert.Equal("Host=db;Password=from-file", ConnectionSecrets.FromEnvironment(Variables(("BANK__CONNECTION_FILE", file))));
            Assert.Null(ConnectionSecrets.FromEnvironment(Variables()));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_unreadable_file_is_one_line_naming_the_variable_and_not_its_contents()
    {
        var missing = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

        var refused = Assert.Throws<JournalUnavailableException>(() => ConnectionSecrets.FromEnvironment(Variables(("BANK__CONNECTION_FILE", missing))));

        Assert.Contains("$BANK__CONNECTION_FILE", refused.Message);
        Assert.Contains(missing, refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void A_log_event_quoting_a_password_is_logged_masked()
    {
        var cause = new InvalidOperationException("could not open Host=db;Password=s3cret");
        var log = new Warning(cause, "journal", typeof(ConnectionSecretsSpecs), "journal failed with Password=s3cret");

        var masked = FilteringLoggerFactoryLogger.Masked(log);

        Assert.IsType<Warning>(masked);
        Assert.Equal("journal failed with Password=***", masked.Message.ToString());
        Assert.DoesNotContain("s3cret", masked.Cause!.ToString());
        Assert.Contains("Password=***", masked.Cause.ToString());
    }

    [Fact]
    public void A_log_event_without_a_password_is_logged_as_it_is()
    {
        var log = new Warning(null, "journal", typeof(ConnectionSecretsSpecs), "nothing secret");

        Assert.Same(log, FilteringLoggerFactoryLogger.Masked(log));
    }

    private static Func<string, string?> Variables(params (string Name, string Value)[] set) =>
        name => set.FirstOrDefault(v => v.Name == name).Value;
}
