using Bank.Hosting;
using Bank.Nodes.Cli;
using Bank.Testing;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// A node beyond loopback without TLS refuses to start (exit 2, one line naming the fix); loopback needs nothing.
/// 203.0.113.7 is a documentation address this machine does not have: nothing is ever sent to it.
/// </summary>
public sealed class SecureByDefaultSpecs
{
    private const string Beyond = "203.0.113.7";

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("LocalHost.")]
    public void Loopback_addresses_and_localhost_stay_on_this_machine(string host) => Assert.True(Loopback.Is(host));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData(Beyond)]
    [InlineData("10.0.0.4")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:10.0.0.4")]
    [InlineData("bank.example")]
    [InlineData("localhost.example")]
    [InlineData("my-localhost")]
    public void Every_other_address_and_any_other_name_is_beyond_loopback(string host) => Assert.False(Loopback.Is(host));

    [Fact]
    public void Loopback_needs_neither_tls_nor_insecure() =>
        Assert.Null(SecureByDefault.Refusal("127.0.0.1", "127.0.0.1", tls: null, insecure: false));

    [Fact]
    public void Beyond_loopback_plain_text_is_refused_naming_both_fixes() =>
        Assert.Equal($"refusing to listen on {Beyond} in plain text: give --tls DIR (see `bank cert init`) or --insecure to accept plain text knowingly",
            SecureByDefault.Refusal(Beyond, "127.0.0.1", tls: null, insecure: false));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("bank.example")]
    public void Listening_everywhere_or_on_a_name_is_refused_too(string host) =>
        Assert.NotNull(SecureByDefault.Refusal(host, null, tls: " ", insecure: false));

    [Fact]
    public void Tls_or_insecure_lets_a_node_listen_beyond_loopback()
    {
        Assert.Null(SecureByDefault.Refusal(Beyond, "127.0.0.1", tls: "/etc/bank/tls", insecure: false));
        Assert.Null(SecureByDefault.Refusal(Beyond, null, tls: null, insecure: true));
    }

    [Fact]
    public void A_dashboard_beyond_loopback_needs_tls_even_with_insecure()
    {
        Assert.Equal($"refusing to serve the dashboard on {Beyond} in plain text: give --tls DIR (see `bank cert init`) or keep it on loopback with --http-host 127.0.0.1",
            SecureByDefault.Refusal("127.0.0.1", Beyond, tls: null, insecure: true));
        Assert.Null(SecureByDefault.Refusal(Beyond, Beyond, tls: "/etc/bank/tls", insecure: false));
    }

    [Theory]
    [InlineData("--hostname", Beyond, "refusing to listen on 203.0.113.7 in plain text: give --tls DIR (see `bank cert init`) or --insecure to accept plain text knowingly")]
    [InlineData("--hostname", "0.0.0.0", "refusing to listen on 0.0.0.0 in plain text: give --tls DIR (see `bank cert init`) or --insecure to accept plain text knowingly")]
    [InlineData("--http-host", Beyond, "refusing to serve the dashboard on 203.0.113.7 in plain text: give --tls DIR (see `bank cert init`) or keep it on loopback with --http-host 127.0.0.1")]
    [InlineData("--dashboard-host", Beyond, "refusing to serve the dashboard on 203.0.113.7 in plain text: give --tls DIR (see `bank cert init`) or keep it on loopback with --http-host 127.0.0.1")]
    public async Task Bank_start_beyond_loopback_without_tls_exits_2_with_one_line(string option, string host, string expected)
    {
        using var data = new TempDataDirectory();

        var (code, output, error) = await RunAsync("start", "--head", option, host, "--port", "0", "--data", data.Path);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("error: " + expected, error.TrimEnd('\n', '\r'));
        Assert.Empty(output);
        Assert.False(Directory.Exists(data.Path), "a refused start prepares nothing");
    }

    [Fact]
    public async Task Bank_start_with_insecure_passes_the_check_and_fails_only_to_bind_in_one_line()
    {
        using var data = new TempDataDirectory();
        var port = FreePort.Next();

        var (code, output, error) = await RunAsync("start", "--head", "--hostname", Beyond, "--insecure", "--port", port.ToString(),
            "--no-dashboard", "--data", data.Path);

        Assert.Equal(ExitCodes.Usage, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: cannot listen on {Beyond}:{port}: ", line);
        Assert.DoesNotContain("plain text", line);
        Assert.DoesNotContain(" at ", line);
        Assert.Empty(output);
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await BankCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
