namespace Bank.Testing;

/// <summary>The checkout the tests run from, for specs that compare a document with the code.</summary>
public static class Repository
{
    /// <summary>The folder above the test's binaries that holds Akka.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Akka.sln")))
                return folder.FullName;
        throw new InvalidOperationException($"no Akka.sln above {AppContext.BaseDirectory}");
    }
}
