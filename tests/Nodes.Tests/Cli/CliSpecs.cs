using Xunit;
using Bank.Nodes.Cli;

namespace Bank.Nodes.Tests;

/// <summary>Mistakes in how `bank` is called get one line on stderr and exit code 2, never a stack trace.</summary>
public sealed class CliSpecs
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await BankCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData(new string[0], "error: no command given; run 'bank --help'")]
    [InlineData(new[] { "frobnicate" }, "error: unknown command 'frobnicate'; run 'bank --help'")]
    [InlineData(new[] { "demo", "--bogus" }, "error: unknown option '--bogus'; see 'bank demo --help'")]
    [InlineData(new[] { "demo", "--data" }, "error: --data needs a value")]
    [InlineData(new[] { "demo", "extra" }, "error: unexpected argument 'extra'; usage: bank demo [--data DIR] [--journal sqlite|postgres] [--connection STRING]")]
    [InlineData(new[] { "demo", "--journal", "oracle" }, "error: --journal must be sqlite or postgres, not 'oracle'")]
    [InlineData(new[] { "demo", "--journal", "postgres" }, "error: --journal postgres needs a connection string: --connection \"Host=...;Database=...;Username=...\", or $BANK__CONNECTION, or a file named by $BANK__CONNECTION_FILE")]
    [InlineData(new[] { "start", "--address", "127.0.0.1:notaport", "--journal", "postgres", "--connection", "Host=x" },
        "error: '127.0.0.1:notaport' is not a cluster address: use HOST:PORT, e.g. 127.0.0.1:4053")]
    [InlineData(new[] { "start", "--address", "127.0.0.1:4053", "--data", "/tmp/bank-cli-spec" },
        "error: a worker shares the cluster's journal: start the head and every worker with --journal postgres --connection STRING (SQLite serves one process)")]
    [InlineData(new[] { "start", "--head", "--port", "99999" }, "error: --port must be a number from 0 to 65535, not '99999'")]
    [InlineData(new[] { "start", "--head", "--dashboard-port", "70000" }, "error: --dashboard-port must be a number from 0 to 65535, not '70000'")]
    [InlineData(new[] { "start", "--head", "--http-port", "70000" }, "error: --http-port must be a number from 0 to 65535, not '70000'")]
    [InlineData(new[] { "start", "--address", "127.0.0.1:4053", "--http-port", "abc" }, "error: --http-port must be a number from 0 to 65535, not 'abc'")]
    [InlineData(new[] { "start", "--head", "--resources", "gpu=lots" }, "error: --resources: gpu 'lots' is not an amount: use a number from 0 with at most 4 decimal places")]
    [InlineData(new[] { "cluster", "show", "extra" }, "error: unexpected argument 'extra'; usage: bank cluster show [--address HOST:PORT] [--tls DIR]")]
    [InlineData(new[] { "cluster" }, "error: missing argument; usage: bank cluster show [--address HOST:PORT] [--tls DIR] | bank cluster leave ADDRESS [--address HOST:PORT] [--tls DIR] | " +
                                     "bank cluster down ADDRESS [--address HOST:PORT] [--tls DIR] | bank cluster down-unreachable [--address HOST:PORT] [--tls DIR] | bank cluster tail [--address HOST:PORT] [--tls DIR]")]
    [InlineData(new[] { "cluster", "join" }, "error: unknown cluster action 'join'; usage: bank cluster show [--address HOST:PORT] [--tls DIR] | bank cluster leave ADDRESS [--address HOST:PORT] [--tls DIR] | " +
                                             "bank cluster down ADDRESS [--address HOST:PORT] [--tls DIR] | bank cluster down-unreachable [--address HOST:PORT] [--tls DIR] | bank cluster tail [--address HOST:PORT] [--tls DIR]")]
    [InlineData(new[] { "cluster", "leave", "nowhere" }, "error: 'nowhere' is not a node address: use HOST:PORT, as `bank cluster show` prints it")]
    [InlineData(new[] { "chaos", "crash" }, "error: missing argument; usage: bank chaos crash NAME [--times N] [--address HOST:PORT] [--tls DIR]")]
    [InlineData(new[] { "chaos", "crash", "x", "--times", "0" }, "error: --times must be a whole number from 1 to 1000000, not '0'")]
    [InlineData(new[] { "deposit", "x" }, "error: missing argument; usage: bank deposit NAME AMOUNT [--id ID] [--first-sent UTC] [--address HOST:PORT] [--tls DIR]")]
    [InlineData(new[] { "deposit", "x", "1", "2" }, "error: unexpected argument '2'; usage: bank deposit NAME AMOUNT [--id ID] [--first-sent UTC] [--address HOST:PORT] [--tls DIR]")]
    [InlineData(new[] { "withdraw", "x", "lots" }, "error: AMOUNT: 'lots' is not a valid amount")]
    [InlineData(new[] { "balance", " x" }, "error: Actor name must not start or end with white space")]
    [InlineData(new[] { "open", "x", "--balance", "ten" }, "error: --balance: 'ten' is not a valid amount")]
    [InlineData(new[] { "transfer", "a", "b", "NaN" }, "error: AMOUNT: 'NaN' is not a finite amount")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--max-task-retries", "1" }, "error: max_task_retries cannot be set if max_restarts is 0.")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--num-cpus", "two" },
        "error: --num-cpus must be a number from 0 with at most 4 decimal places (e.g. 1 or 0.5), not 'two'")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--num-gpus", "-1" },
        "error: --num-gpus must be a number from 0 with at most 4 decimal places (e.g. 1 or 0.5), not '-1'")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--num-gpus", "1.5" }, "error: num_gpus above 1 must be a whole number (as in Ray), not 1.5")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--memory", "lots" },
        "error: --memory must be bytes or a size with B, KiB, MiB, GiB or TiB (e.g. 500MiB), not 'lots'")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--resources", "CPU=2" },
        "error: --resources takes custom resources only: give cpu with --num-cpus (as Ray wants num_cpus, num_gpus and memory, not resources={\"CPU\": ...})")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--resources", "accelerator_x=1,memory=1GiB" },
        "error: --resources takes custom resources only: give memory with --memory (as Ray wants num_cpus, num_gpus and memory, not resources={\"CPU\": ...})")]
    [InlineData(new[] { "open", "x", "--balance", "1", "--resources", "accelerator_x=lots" },
        "error: --resources: accelerator_x 'lots' is not an amount: use a number from 0 with at most 4 decimal places")]
    public async Task Usage_errors_print_one_line_and_exit_2(string[] args, string expected)
    {
        var (code, output, error) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal(expected, error.TrimEnd('\n', '\r'));
        Assert.DoesNotContain('\n', error.TrimEnd('\n', '\r'));
        Assert.Empty(output);
    }

    [Fact]
    public async Task Start_without_head_or_address_says_which_and_prints_its_usage()
    {
        var (code, output, error) = await RunAsync("start");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("error: say --head for the seed node, --address HOST:PORT to join one, or --discovery config --contact-points HOST:PORT,... to form one by bootstrap; usage: " + StartCommand.Usage, error.TrimEnd('\n', '\r'));
        Assert.StartsWith("bank start [--head] [--address HOST:PORT] [--port PORT]", StartCommand.Usage);
        Assert.Empty(output);
    }

    [Fact]
    public async Task A_ten_thousand_character_command_is_refused_in_one_short_line()
    {
        var (code, _, error) = await RunAsync(new string('x', 10_000));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.True(error.Length < 200, error);
    }

    [Fact]
    public async Task Help_lists_the_demo_and_the_exit_codes()
    {
        var (code, output, _) = await RunAsync("--help");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("bank demo [--data DIR]", output);
        Assert.Contains("2 usage error", output);
    }

    [Fact]
    public async Task A_data_folder_that_is_a_file_is_refused_in_one_line_with_exit_2()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (code, output, error) = await RunAsync("demo", "--data", file);

            Assert.Equal(ExitCodes.Usage, code);
            Assert.Equal($"error: --data '{file}' is a file, not a folder", error.TrimEnd('\n', '\r'));
            Assert.Empty(output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_head_on_a_port_in_use_is_refused_in_one_line_with_exit_2()
    {
        using var busy = FreePort.Hold();
        var port = busy.Port;
        var data = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));

        var (code, _, error) = await RunAsync("start", "--head", "--port", port.ToString(), "--data", data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"error: port {port} is already in use on 127.0.0.1; pick another with --port", error.TrimEnd('\n', '\r'));
        if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
    }
}
