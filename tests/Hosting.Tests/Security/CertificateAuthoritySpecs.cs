using System.Security.Cryptography.X509Certificates;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>`bank cert init` and `bank cert issue`: what they write, and what they refuse.</summary>
[Collection(SecurityCollection.Name)]
public sealed class CertificateAuthoritySpecs(IssuedCertificates issued) : IClassFixture<IssuedCertificates>
{
    [Fact]
    public void Init_writes_the_CA_with_its_key_and_its_public_certificate()
    {
        Assert.Equal(["ca.crt", "ca.p12"], Directory.EnumerateFiles(issued.Ca).Select(Path.GetFileName).Order());
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(Path.Combine(issued.Ca, "ca.crt")));
        using var authority = issued.AuthorityWithKey();
        Assert.True(authority.HasPrivateKey);
        using var key = authority.GetECDsaPrivateKey();
        Assert.Equal(256, key?.KeySize);
        Assert.True(authority.NotAfter > DateTime.Now.AddYears(9));
    }

    [Fact]
    public void Issue_writes_the_leaf_the_CAs_public_certificate_and_for_callers_a_credential_but_never_the_CAs_key()
    {
        Assert.Equal(["bank.p12", "ca.crt"], Directory.EnumerateFiles(issued.Node).Select(Path.GetFileName).Order());
        Assert.Equal(["bank.p12", "ca.crt", "credential"], Directory.EnumerateFiles(issued.Client).Select(Path.GetFileName).Order());
        Assert.Equal(File.ReadAllText(Path.Combine(issued.Ca, "ca.crt")), File.ReadAllText(Path.Combine(issued.Client, "ca.crt")));
    }

    [Fact]
    public void A_leaf_carries_both_TLS_usages_its_SANs_and_a_year_of_validity()
    {
        var admin = TlsIdentity.Load(issued.Admin).Certificate;
        var usages = admin.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages.Order());
        var sans = admin.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["bank.example"], sans.EnumerateDnsNames());
        Assert.Equal(["10.1.2.3"], sans.EnumerateIPAddresses().Select(a => a.ToString()));
        var node = TlsIdentity.Load(issued.Node).Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost"], node.EnumerateDnsNames());
        Assert.Equal(["127.0.0.1"], node.EnumerateIPAddresses().Select(a => a.ToString()));
        Assert.InRange(admin.NotAfter - admin.NotBefore, TimeSpan.FromDays(364), TimeSpan.FromDays(366));
        Assert.Equal("CN=root-op", admin.Subject);
    }

    [Fact]
    public void Init_and_issue_refuse_to_overwrite_a_folder_that_is_not_empty()
    {
        var error = Assert.Throws<TlsSetupException>(() => CertificateAuthority.Init(issued.Ca));
        TlsIdentitySpecs.AssertOneLine(error, "refusing to overwrite");
        error = Assert.Throws<TlsSetupException>(() => CertificateAuthority.Issue(issued.Ca, "n", BankRole.Node, [], issued.Node));
        TlsIdentitySpecs.AssertOneLine(error, "refusing to overwrite");
        var empty = issued.Fresh();
        Directory.CreateDirectory(empty);
        CertificateAuthority.Issue(issued.Ca, "n", BankRole.Node, [], empty);
    }

    [Fact]
    public void Issue_without_a_CA_is_one_line_naming_the_fix()
    {
        var error = Assert.Throws<TlsSetupException>(() => CertificateAuthority.Issue(issued.Node, "n", BankRole.Node, [], issued.Fresh()));
        TlsIdentitySpecs.AssertOneLine(error, "bank cert init");
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("CN=admin")]
    [InlineData("x,OU=admin")]
    [InlineData("ünï")]
    public void Names_outside_the_documented_set_are_refused(string name)
    {
        Assert.False(CertificateAuthority.IsValidName(name));
        Assert.Throws<ArgumentException>(() => CertificateAuthority.Issue(issued.Ca, name, BankRole.Node, [], issued.Fresh()));
    }

    [Fact]
    public void Names_up_to_64_characters_of_the_documented_set_are_accepted()
    {
        Assert.True(CertificateAuthority.IsValidName("node-1.eu_west"));
        Assert.True(CertificateAuthority.IsValidName(new string('a', 64)));
        Assert.False(CertificateAuthority.IsValidName(new string('a', 65)));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("node-1.bank.example", true)]
    [InlineData("localhost", true)]
    [InlineData("bad host", false)]
    [InlineData("http://x", false)]
    [InlineData("", false)]
    public void SANs_are_IP_addresses_or_DNS_names(string san, bool valid) => Assert.Equal(valid, CertificateAuthority.IsValidSan(san));

    [SkippableFact]
    public void Every_file_written_is_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows())
            throw new SkipException("Unix file modes");
        foreach (var folder in new[] { issued.Ca, issued.Node, issued.Client })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            foreach (var file in Directory.EnumerateFiles(folder))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }
}
