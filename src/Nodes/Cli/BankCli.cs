using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>The `bank` command line: picks the command, turns every failure into one line and an exit code.</summary>
public static class BankCli
{
    public const string Help = """
        bank: Ray-style stateful remote actors on an Akka.NET cluster.

        Usage:
          bank demo [--data DIR] [--journal sqlite|postgres] [--connection STRING]
                                    the "Remote Actors" chapter's scripts, end to end, on an embedded
                                    one-node cluster; its journal is SQLite in DIR/bank.db (default ./data)
                                    or the PostgreSQL database of the connection string
          bank --help               this text
          bank --version            the version

        Exit codes: 0 ok, 1 rule violation or actor error, 2 usage error, 3 no such actor, 4 cluster unreachable,
        130 interrupted (Ctrl+C or SIGTERM).
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        try
        {
            if (args.Count == 0)
            {
                error.WriteLine("error: no command given; run 'bank --help'");
                return ExitCodes.Usage;
            }

            var rest = args.Skip(1).ToList();
            return args[0] switch
            {
                "--help" or "-h" or "help" => Print(output, Help),
                "--version" => Print(output, typeof(BankCli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"),
                "demo" => await new DemoCommand(output).RunAsync(rest),
                var unknown => throw new UsageException($"unknown command '{TextEcho.OneLine(unknown)}'; run 'bank --help'"),
            };
        }
        catch (UsageException usage)
        {
            error.WriteLine($"error: {usage.Message}");
            return ExitCodes.Usage;
        }
        catch (BankException stopping) when (stopping.Code == "ShuttingDown")
        {
            // The node was asked to stop (Ctrl+C, SIGTERM) while the command used it.
            error.WriteLine("error: interrupted; the node left the cluster");
            return ExitCodes.Interrupted;
        }
        catch (BankException bank)
        {
            error.WriteLine($"error: {bank.Message}");
            return bank.Kind switch
            {
                Hosting.Accounts.ErrorKind.Usage => ExitCodes.Usage,
                Hosting.Accounts.ErrorKind.ActorNotFound => ExitCodes.NotFound,
                Hosting.Accounts.ErrorKind.ClusterUnreachable => ExitCodes.Unreachable,
                _ => ExitCodes.Failure,
            };
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("error: interrupted; the node left the cluster");
            return ExitCodes.Interrupted;
        }
        catch (JournalUnavailableException journal)
        {
            error.WriteLine($"error: {OneLine(journal.Message)}");
            return ExitCodes.Failure;
        }
        catch (Exception unexpected)
        {
            // No stack trace reaches a user; BANK_DEBUG=1 shows it to whoever investigates.
            error.WriteLine($"error: {OneLine(unexpected.GetBaseException().Message)}");
            if (Environment.GetEnvironmentVariable("BANK_DEBUG") == "1")
                error.WriteLine(unexpected);
            return ExitCodes.Failure;
        }
    }

    private static int Print(TextWriter output, string text)
    {
        output.WriteLine(text);
        return ExitCodes.Ok;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

}
