using System.CommandLine;
using System.CommandLine.Invocation;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>The `bank` command line: parses with <see cref="CommandTree"/>, runs the command, turns every failure into one line and an exit code.</summary>
public static class BankCli
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        // Decided from the words, not the parse: a command line that does not parse still gets its error as JSON.
        var output = new Output(stdout, stderr, args.Contains("--json"));
        try
        {
            // No response files: a word that starts with '@' is a word.
            var parsed = CommandTree.Root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (parsed.Action is ParseErrorAction)
                throw new UsageException(UsageErrors.Describe(parsed));
            if (parsed.Action is not CommandTree.HelpAction && UsageErrors.UnknownOption(parsed) is { } unknown)
                throw new UsageException(unknown);

            // Our handlers below, not System.CommandLine's: no stack trace, and Ctrl+C is the node's to handle.
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (UsageException usage)
        {
            return output.Error(ErrorKind.Usage, usage.Message, ExitCodes.Usage);
        }
        catch (Hosting.Configuration.SettingsException settings)
        {
            // appsettings or a BANK__ variable naming no setting: bad input, said before anything starts.
            return output.Error(ErrorKind.Usage, OneLine(settings.Message), ExitCodes.Usage);
        }
        catch (BankException stopping) when (stopping.Code == "ShuttingDown")
        {
            // The node was asked to stop (Ctrl+C, SIGTERM) while the command used it.
            return output.Error(ErrorKind.ClusterUnreachable, "interrupted; the node left the cluster", ExitCodes.Interrupted);
        }
        catch (BankException bank)
        {
            return output.Error(bank.Kind, OneLine(bank.Message), bank.Kind switch
            {
                ErrorKind.Usage => ExitCodes.Usage,
                ErrorKind.ActorNotFound => ExitCodes.NotFound,
                // Certainly not done, or maybe done (resend the same --id): the JSON kind tells which.
                ErrorKind.ClusterUnreachable or ErrorKind.OutcomeUnknown => ExitCodes.Unreachable,
                ErrorKind.Unauthorized => ExitCodes.Unauthorized,
                _ => ExitCodes.Failure,
            }, bank.RequestId, bank.FirstSent);
        }
        catch (OperationCanceledException)
        {
            return output.Error(ErrorKind.ActorDied, "interrupted; the node left the cluster", ExitCodes.Interrupted);
        }
        catch (JournalUnavailableException journal)
        {
            return output.Error(ErrorKind.ClusterUnreachable, OneLine(journal.Message), ExitCodes.Failure);
        }
        catch (Exception unexpected)
        {
            // No stack trace reaches a user; BANK_DEBUG=1 shows it to whoever investigates.
            var code = output.Error(ErrorKind.ActorDied, OneLine(unexpected.GetBaseException().Message), ExitCodes.Failure);
            if (Environment.GetEnvironmentVariable("BANK_DEBUG") == "1")
                stderr.WriteLine(unexpected);
            return code;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>The <see cref="Output"/> of a command being run: the writers it was invoked with, and --json.</summary>
    public static Output OutputOf(ParseResult parsed) =>
        new(parsed.InvocationConfiguration.Output, parsed.InvocationConfiguration.Error, parsed.GetValue(SharedOptions.Json));
}
