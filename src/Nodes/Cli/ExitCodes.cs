namespace Bank.Nodes.Cli;

/// <summary>The documented exit codes of `bank` (docs/cli.md and DESIGN.md section 4).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int Unreachable = 4;

    /// <summary>The door refused the request: no valid credential, or its role may not send it.</summary>
    public const int Unauthorized = 5;

    /// <summary>Ctrl+C or SIGTERM stopped the command, as shells report a SIGINT.</summary>
    public const int Interrupted = 130;
}

/// <summary>A mistake in how `bank` was called: one line for stderr, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
