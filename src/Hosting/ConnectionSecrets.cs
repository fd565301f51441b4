using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Bank.Hosting;

/// <summary>
/// The PostgreSQL connection string as a secret (DESIGN.md section 8): read from the environment or a file rather than
/// argv, and masked wherever a message could carry it (errors, log lines).
/// </summary>
public static partial class ConnectionSecrets
{
    /// <summary>The connection string itself.</summary>
    public const string Variable = "BANK__CONNECTION";

    /// <summary>A file whose contents are the connection string (trailing newline trimmed), e.g. a mounted secret.</summary>
    public const string FileVariable = "BANK__CONNECTION_FILE";

    public const string Mask = "***";

    // Process-wide: the passwords this process was given, so that text quoting them verbatim is masked too.
    private static readonly ConcurrentDictionary<string, byte> Known = new(StringComparer.Ordinal);

    /// <summary>$BANK__CONNECTION, else the contents of the file named by $BANK__CONNECTION_FILE, else null.</summary>
    /// <exception cref="JournalUnavailableException">The file cannot be read: one line naming the variable and the file.</exception>
    public static string? FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="FromEnvironment()"/>, reading the variables through <paramref name="variable"/>.</summary>
    public static string? FromEnvironment(Func<string, string?> variable)
    {
        if (variable(Variable) is { Length: > 0 } value) return value;
        if (variable(FileVariable) is not { Length: > 0 } file) return null;
        try
        {
            return File.ReadAllText(file).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new JournalUnavailableException($"cannot read the connection string from {file} (${FileVariable}): {e.Message}", e);
        }
    }

    /// <summary>
    /// Remembers the password of <paramref name="connectionString"/> so that <see cref="Hide(string)"/> masks it anywhere.
    /// A password shorter than <see cref="RememberedLength"/> is masked only where it stands as Password=...: masking a
    /// short word everywhere (the CI's password is "bank") would garble every address and command a node prints.
    /// </summary>
    public static void Remember(string connectionString)
    {
        foreach (Match pair in PasswordPair().Matches(connectionString))
            if (Unquote(pair.Groups["value"].Value) is { Length: >= RememberedLength } password)
                Known.TryAdd(password, 0);
    }

    public const int RememberedLength = 8;

    /// <summary><paramref name="text"/> with every password masked: those remembered, and any Password=... pair.</summary>
    public static string Hide(string text) => Hide(text, Known.Keys);

    /// <summary>
    /// <paramref name="text"/> with the value of every <c>Password=</c> (or <c>Pwd=</c>) pair masked, quoted or not, and
    /// every occurrence of the given <paramref name="secrets"/>.
    /// </summary>
    public static string Hide(string text, IEnumerable<string> secrets)
    {
        var masked = PasswordPair().Replace(text, pair => $"{pair.Groups["key"].Value}={Mask}");
        // Longest first, so that a secret containing another is masked whole.
        foreach (var secret in secrets.Where(s => s.Length > 0).OrderByDescending(s => s.Length))
            masked = masked.Replace(secret, Mask, StringComparison.Ordinal);
        return masked;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0]
            ? value[1..^1].Replace(new string(value[0], 2), value[0].ToString())
            : value.Trim();

    [GeneratedRegex("""(?<key>\b(?:password|pwd))\s*=\s*(?<value>"(?:[^"]|"")*"|'(?:[^']|'')*'|[^;]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordPair();
}
