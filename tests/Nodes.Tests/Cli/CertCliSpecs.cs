using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>`bank cert init` and `bank cert issue`, run as a user runs them: files `--tls DIR` loads, passwords from the environment only.</summary>
public sealed class CertCliSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>No password from the environment of whoever runs the specs.</summary>
    private static readonly Dictionary<string, string?> NoPassword = new()
    {
        [CertificateAuthority.PasswordVariable] = null,
        [CertificateAuthority.PasswordVariable + "_FILE"] = null,
    };

    private readonly TempDataDirectory root = new();

    private string In(string name) => Path.Combine(root.Path, name);

    private static Task<BankProcess.Result> Bank(params string[] args) => BankProcess.RunAsync(Timeout, NoPassword, args);

    private static Task<BankProcess.Result> Bank(Dictionary<string, string?> environment, params string[] args) =>
        BankProcess.RunAsync(Timeout, environment, args);

    [Fact]
    public async Task Init_and_issue_make_folders_that_tls_loads_and_say_what_to_run_next()
    {
        var init = await Bank("cert", "init", "--out", In("ca"));
        BankCommands.AssertOk(init, ["cert", "init"]);
        Assert.Equal(2, init.Lines.Length);
        Assert.StartsWith($"Next: bank cert issue --ca {In("ca")}", init.Lines[1]);

        foreach (var (name, role) in new[] { ("node-1", "node"), ("alice", "client"), ("ops", "admin") })
        {
            var issue = await Bank("cert", "issue", "--ca", In("ca"), "--name", name, "--role", role, "--out", In(name));
            BankCommands.AssertOk(issue, ["cert", "issue", role]);
            Assert.Equal($"Issued {(role == "admin" ? "an" : "a")} {role} certificate for '{name}' in {In(name)}", issue.Lines[0]);
            // A client goes to the door's address, which `bank start` prints; a node can also join a seed.
            Assert.StartsWith(role == "node" ? $"Next: bank start --head --tls {In(name)}" : "Next: bank list --address HOST:CLIENTPORT --tls ",
                issue.Lines[1]);
            var identity = TlsIdentity.Load(In(name));
            Assert.Equal(name, identity.Name);
            Assert.Equal(BankRoles.Parse(role), identity.Role);
            Assert.Equal(role != "node", identity.Credential is not null);
        }
    }

    [Fact]
    public async Task With_json_each_prints_one_object_naming_the_files()
    {
        var init = BankCommands.ParseOne(await Bank("cert", "init", "--out", In("ca"), "--json"));
        Assert.Equal(["ca.crt", "ca.p12"], init["files"]!.AsArray().Select(f => f!.GetValue<string>()));
        var issue = BankCommands.ParseOne(await Bank("cert", "issue", "--ca", In("ca"), "--name", "alice", "--role", "client",
            "--san", "10.0.0.7", "--san", "bank.example", "--out", In("alice"), "--json"));
        Assert.Equal("client", issue["role"]!.GetValue<string>());
        Assert.Equal(["bank.p12", "ca.crt", "credential"], issue["files"]!.AsArray().Select(f => f!.GetValue<string>()));
        var sans = TlsIdentity.Load(In("alice")).Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["bank.example"], sans.EnumerateDnsNames());
        Assert.Equal(["10.0.0.7"], sans.EnumerateIPAddresses().Select(a => a.ToString()));
    }

    [Fact]
    public async Task A_folder_that_is_not_empty_is_never_overwritten()
    {
        BankCommands.AssertOk(await Bank("cert", "init", "--out", In("ca")), ["cert", "init"]);
        var before = File.ReadAllBytes(Path.Combine(In("ca"), "ca.p12"));
        var again = BankCommands.AssertOneLineError(await Bank("cert", "init", "--out", In("ca")), 1, "a second init in the CA's folder");
        Assert.Contains("refusing to overwrite", again);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(In("ca"), "ca.p12")));
        var (kind, message) = BankCommands.AssertJsonError(
            await Bank("cert", "issue", "--ca", In("ca"), "--name", "n", "--role", "node", "--out", In("ca"), "--json"), 1, "issue into the CA's folder");
        Assert.Equal("RuleViolation", kind);
        Assert.Contains("refusing to overwrite", message);
    }

    [Fact]
    public async Task Issue_without_a_CA_names_the_command_that_makes_one()
    {
        var error = BankCommands.AssertOneLineError(
            await Bank("cert", "issue", "--ca", In("nowhere"), "--name", "n", "--role", "node", "--out", In("n")), 1, "no CA");
        Assert.Contains("bank cert init", error);
    }

    [Theory]
    [InlineData("--role", "root", "error: --role must be node, client or admin, not 'root'")]
    [InlineData("--role", "Admin", "error: --role must be node, client or admin, not 'Admin'")]
    [InlineData("--name", "OU=admin", "error: --name must be 1-64 characters of A-Z a-z 0-9 . _ -, not 'OU=admin'")]
    [InlineData("--san", "not a host", "error: --san must be an IP address or a DNS name, not 'not a host'")]
    [InlineData("--password", "hunter2", "error: unknown option '--password'; see 'bank cert issue --help'")]
    public async Task Bad_arguments_are_usage_errors(string option, string value, string expected)
    {
        var args = new Dictionary<string, string> { ["--ca"] = In("ca"), ["--name"] = "n", ["--role"] = "node", ["--out"] = In("n") };
        args[option] = value;
        var result = await Bank(["cert", "issue", .. args.SelectMany(a => new[] { a.Key, a.Value })]);
        Assert.Equal(expected, BankCommands.AssertOneLineError(result, 2, $"{option} {value}"));
        Assert.False(Directory.Exists(In("n")));
    }

    [Fact]
    public async Task There_is_no_password_option_and_a_missing_out_is_a_usage_error()
    {
        var password = BankCommands.AssertOneLineError(await Bank("cert", "init", "--out", In("ca"), "--password", "hunter2"), 2, "--password");
        Assert.Contains("unknown option '--password'", password);
        Assert.DoesNotContain("hunter2", password);
        Assert.False(Directory.Exists(In("ca")));
        Assert.Contains("--out is required", BankCommands.AssertOneLineError(await Bank("cert", "init"), 2, "no --out"));
    }

    [Fact]
    public async Task A_password_from_the_environment_encrypts_every_key_and_is_needed_to_use_them()
    {
        const string password = "correct-horse-battery";
        var withPassword = new Dictionary<string, string?>(NoPassword) { [CertificateAuthority.PasswordVariable] = password };
        var init = await Bank(withPassword, "cert", "init", "--out", In("ca"));
        BankCommands.AssertOk(init, ["cert", "init"]);
        var issue = await Bank(withPassword, "cert", "issue", "--ca", In("ca"), "--name", "alice", "--role", "admin", "--out", In("alice"));
        BankCommands.AssertOk(issue, ["cert", "issue"]);
        Assert.DoesNotContain(password, init.Stdout + init.Stderr + issue.Stdout + issue.Stderr);

        foreach (var p12 in new[] { Path.Combine(In("ca"), "ca.p12"), Path.Combine(In("alice"), "bank.p12") })
        {
            Assert.ThrowsAny<CryptographicException>(() => X509CertificateLoader.LoadPkcs12FromFile(p12, null));
            using var loaded = X509CertificateLoader.LoadPkcs12FromFile(p12, password, X509KeyStorageFlags.EphemeralKeySet);
            Assert.True(loaded.HasPrivateKey);
        }

        // The CA's key cannot be used without its password either.
        var refused = BankCommands.AssertOneLineError(
            await Bank("cert", "issue", "--ca", In("ca"), "--name", "bob", "--role", "client", "--out", In("bob")), 1, "issue without the CA's password");
        Assert.Contains(CertificateAuthority.PasswordVariable, refused);
        Assert.False(Directory.Exists(In("bob")));
    }

    [Fact]
    public async Task A_password_file_works_like_the_variable_without_its_trailing_newline()
    {
        Directory.CreateDirectory(root.Path);
        var file = In("password.txt");
        File.WriteAllText(file, "from-a-file\n");
        var withFile = new Dictionary<string, string?>(NoPassword) { [CertificateAuthority.PasswordVariable + "_FILE"] = file };
        BankCommands.AssertOk(await Bank(withFile, "cert", "init", "--out", In("ca")), ["cert", "init"]);
        BankCommands.AssertOk(await Bank(withFile, "cert", "issue", "--ca", In("ca"), "--name", "n", "--role", "node", "--out", In("n")), ["cert", "issue"]);
        using var loaded = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(In("n"), "bank.p12"), "from-a-file", X509KeyStorageFlags.EphemeralKeySet);
        Assert.True(loaded.HasPrivateKey);

        var missing = new Dictionary<string, string?>(NoPassword) { [CertificateAuthority.PasswordVariable + "_FILE"] = In("absent") };
        var error = BankCommands.AssertOneLineError(await Bank(missing, "cert", "init", "--out", In("ca2")), 1, "a password file that is not there");
        Assert.Contains(CertificateAuthority.PasswordVariable + "_FILE", error);
    }

    [SkippableFact]
    public async Task Every_file_is_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows())
            throw new SkipException("Unix file modes");
        BankCommands.AssertOk(await Bank("cert", "init", "--out", In("ca")), ["cert", "init"]);
        BankCommands.AssertOk(await Bank("cert", "issue", "--ca", In("ca"), "--name", "c", "--role", "client", "--out", In("c")), ["cert", "issue"]);
        foreach (var file in Directory.EnumerateFiles(In("ca")).Concat(Directory.EnumerateFiles(In("c"))))
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is {File.GetUnixFileMode(file)}");
    }

    public void Dispose() => root.Dispose();
}
