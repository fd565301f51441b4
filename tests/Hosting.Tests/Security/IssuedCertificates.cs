using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>
/// The specs that make or load certificates read BANK__TLS_PASSWORD, which is process-wide: they run one class at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SecurityCollection
{
    public const string Name = "Security";
}

/// <summary>One cluster CA with a node, a client and an admin folder, and a second CA with a node: made once per spec class.</summary>
public sealed class IssuedCertificates : IDisposable
{
    private readonly TempDataDirectory root = new();

    public IssuedCertificates()
    {
        Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable, null);
        Environment.SetEnvironmentVariable(CertificateAuthority.PasswordVariable + "_FILE", null);
        CertificateAuthority.Init(Ca);
        CertificateAuthority.Issue(Ca, "node-1", BankRole.Node, [], Node);
        CertificateAuthority.Issue(Ca, "alice", BankRole.Client, [], Client);
        CertificateAuthority.Issue(Ca, "bob", BankRole.Client, [], SecondClient);
        CertificateAuthority.Issue(Ca, "root-op", BankRole.Admin, ["10.1.2.3", "bank.example"], Admin);
        CertificateAuthority.Init(OtherCa);
        CertificateAuthority.Issue(OtherCa, "node-1", BankRole.Node, [], OtherNode);
        CertificateAuthority.Issue(OtherCa, "alice", BankRole.Client, [], OtherClient);
    }

    public string Root => root.Path;

    public string Ca => In("ca");

    public string Node => In("node");

    public string Client => In("client");

    public string SecondClient => In("client-2");

    public string Admin => In("admin");

    public string OtherCa => In("other-ca");

    public string OtherNode => In("other-node");

    public string OtherClient => In("other-client");

    /// <summary>A fresh path under the root, not yet created.</summary>
    public string In(string name) => Path.Combine(root.Path, name);

    public string Fresh() => In(Guid.NewGuid().ToString("N"));

    public X509Certificate2 Authority => authority ??= X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Ca, CertificateAuthority.AuthorityCertificateFile));

    private X509Certificate2? authority;

    /// <summary>The CA with its private key, as only `bank cert issue` holds it: for specs that forge certificates.</summary>
    public X509Certificate2 AuthorityWithKey() =>
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(Ca, CertificateAuthority.AuthorityKeyFile), null, X509KeyStorageFlags.EphemeralKeySet);

    /// <summary>A leaf signed by <paramref name="issuer"/> with whatever extensions a forger chooses.</summary>
    public static X509Certificate2 Forge(X509Certificate2 issuer, string subject, params X509Extension[] extensions)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        foreach (var extension in extensions)
            request.CertificateExtensions.Add(extension);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(issuer, now.AddMinutes(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>The role extension as `bank cert issue` writes it (DER UTF8String under Bank's OID).</summary>
    public static X509Extension RoleExtension(string text)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        writer.WriteCharacterString(System.Formats.Asn1.UniversalTagNumber.UTF8String, text);
        return new X509Extension("2.25.79951309384571235633669544811361011244.1", writer.Encode(), false);
    }

    public void Dispose() => root.Dispose();
}
