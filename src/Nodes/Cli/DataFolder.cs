namespace Bank.Nodes.Cli;

/// <summary>The --data folder: made if missing, refused in one line if it cannot hold the database.</summary>
public static class DataFolder
{
    public static string Prepare(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new UsageException("--data needs a folder");
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"--data '{Bank.Domain.TextEcho.OneLine(path)}' is not a usable path");
        }

        if (File.Exists(full))
            throw new UsageException($"--data '{full}' is a file, not a folder");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot use '{full}' as the data folder: {e.Message}");
        }

        return full;
    }
}
