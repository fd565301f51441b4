namespace Bank.Hosting.Security;

/// <summary>
/// Secrets come from the environment or a file, never from argv (which every user of the machine can read in
/// /proc/PID/cmdline): the variable NAME itself, else the contents of the file that NAME_FILE names.
/// </summary>
public static class Secrets
{
    /// <summary>A secret from env var NAME, or from the file named by env var NAME_FILE; null when neither is set.</summary>
    public static string? Read(string name)
    {
        if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            return value;
        var fileVariable = name + "_FILE";
        if (Environment.GetEnvironmentVariable(fileVariable) is not { Length: > 0 } file)
            return null;
        try
        {
            // One trailing newline is what `echo secret > file` adds; anything else is part of the secret.
            return File.ReadAllText(file).TrimEnd('\n').TrimEnd('\r');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // The file's name is not secret; its contents are, and the exception message never holds them.
            throw new TlsSetupException($"cannot read the file named by {fileVariable} ({file}): {Why(e)}");
        }
    }

    /// <summary>Why a file could not be read, in words (an exception's name is not for users).</summary>
    internal static string Why(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => "not readable",
    };
}
