using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>A secret comes from its variable, else from the file NAME_FILE names; never from argv.</summary>
public sealed class SecretsSpecs : IDisposable
{
    private readonly string name = "BANK__TEST_SECRET_" + Guid.NewGuid().ToString("N");

    private readonly TempDataDirectory folder = new();

    [Fact]
    public void Neither_set_is_null() => Assert.Null(Secrets.Read(name));

    [Fact]
    public void The_variable_wins_over_the_file()
    {
        Environment.SetEnvironmentVariable(name, "from-env");
        Environment.SetEnvironmentVariable(name + "_FILE", WriteFile("from-file\n"));
        Assert.Equal("from-env", Secrets.Read(name));
    }

    [Fact]
    public void The_file_is_read_without_its_trailing_newline()
    {
        Environment.SetEnvironmentVariable(name + "_FILE", WriteFile("pa ss\r\n"));
        Assert.Equal("pa ss", Secrets.Read(name));
    }

    [Fact]
    public void A_missing_file_is_one_line_naming_the_variable()
    {
        Environment.SetEnvironmentVariable(name + "_FILE", Path.Combine(folder.Path, "absent"));
        var error = Assert.Throws<TlsSetupException>(() => Secrets.Read(name));
        TlsIdentitySpecs.AssertOneLine(error, name + "_FILE", "no such file");
        Assert.DoesNotContain("Exception", error.Message);
    }

    private string WriteFile(string contents)
    {
        Directory.CreateDirectory(folder.Path);
        var path = Path.Combine(folder.Path, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, contents);
        return path;
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(name, null);
        Environment.SetEnvironmentVariable(name + "_FILE", null);
        folder.Dispose();
    }
}
