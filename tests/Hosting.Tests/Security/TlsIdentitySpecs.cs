using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>`--tls DIR` loads what `bank cert issue` wrote, or says in one line what is wrong.</summary>
[Collection(SecurityCollection.Name)]
public sealed class TlsIdentitySpecs(IssuedCertificates issued) : IClassFixture<IssuedCertificates>
{
    [Fact]
    public void An_issued_folder_loads_with_its_name_role_key_and_CA()
    {
        var admin = TlsIdentity.Load(issued.Admin);
        Assert.Equal("root-op", admin.Name);
        Assert.Equal(BankRole.Admin, admin.Role);
        Assert.True(admin.Certificate.HasPrivateKey);
        Assert.False(admin.Authority.HasPrivateKey);
        Assert.Equal(issued.Authority.Thumbprint, admin.Authority.Thumbprint);
        Assert.StartsWith("bank1.", admin.Credential);
        Assert.Equal(BankRole.Node, TlsIdentity.Load(issued.Node).Role);
        Assert.Equal(BankRole.Client, TlsIdentity.Load(issued.Client).Role);
    }

    [Fact]
    public void A_missing_folder_is_one_line_naming_it() =>
        AssertOneLine(Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(issued.In("nowhere"))), "nowhere", "does not exist");

    [Fact]
    public void A_folder_without_ca_crt_is_one_line_naming_the_file()
    {
        var folder = Copy(issued.Node);
        File.Delete(Path.Combine(folder, CertificateAuthority.AuthorityCertificateFile));
        AssertOneLine(Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder)), "ca.crt");
    }

    [Fact]
    public void A_folder_without_its_certificate_is_one_line_naming_the_file()
    {
        var folder = Copy(issued.Node);
        File.Delete(Path.Combine(folder, CertificateAuthority.CertificateFile));
        AssertOneLine(Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder)), "bank.p12");
    }

    [Fact]
    public void A_certificate_with_another_CAs_ca_crt_is_refused()
    {
        var folder = Copy(issued.Node);
        File.Copy(Path.Combine(issued.OtherCa, CertificateAuthority.AuthorityCertificateFile),
            Path.Combine(folder, CertificateAuthority.AuthorityCertificateFile), overwrite: true);
        AssertOneLine(Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder)), "does not chain");
    }

    [Fact]
    public void A_client_folder_without_its_credential_or_with_anothers_is_refused()
    {
        var folder = Copy(issued.Client);
        File.Copy(Path.Combine(issued.Admin, CertificateAuthority.CredentialFile), Path.Combine(folder, CertificateAuthority.CredentialFile), overwrite: true);
        AssertOneLine(Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder)), "credential");
        File.Delete(Path.Combine(folder, CertificateAuthority.CredentialFile));
        AssertOneLine(Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder)), "credential");
    }

    [Fact]
    public void A_password_set_at_issue_is_needed_to_load_and_never_shown()
    {
        const string password = "s3cret-Pa55word";
        var folder = issued.Fresh();
        try
        {
            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable, password);
            // The CA was made without a password: issuing with one set cannot open it.
            AssertOneLine(Assert.Throws<TlsSetupException>(() => CertificateAuthority.Issue(issued.Ca, "n", BankRole.Node, [], folder)),
                "password", CertificateAuthority.PasswordVariable);
            var ca = issued.Fresh();
            CertificateAuthority.Init(ca);
            CertificateAuthority.Issue(ca, "n", BankRole.Admin, [], folder);
            Assert.Equal(BankRole.Admin, TlsIdentity.Load(folder).Role);

            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable, null);
            var missing = Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder));
            AssertOneLine(missing, "password", CertificateAuthority.PasswordVariable);

            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable, "wrong-" + password);
            var wrong = Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(folder));
            AssertOneLine(wrong, "password");
            Assert.DoesNotContain(password, wrong.Message);

            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable, null);
            var file = Path.Combine(issued.Root, Guid.NewGuid().ToString("N"));
            File.WriteAllText(file, password + "\n");
            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable + "_FILE", file);
            Assert.Equal(BankRole.Admin, TlsIdentity.Load(folder).Role);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable, null);
            Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable + "_FILE", null);
        }
    }

    private string Copy(string folder)
    {
        var copy = issued.Fresh();
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(folder))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    internal static void AssertOneLine(Exception error, params string[] mentions)
    {
        Assert.DoesNotContain('\n', error.Message);
        foreach (var mention in mentions)
            Assert.Contains(mention, error.Message);
    }
}
