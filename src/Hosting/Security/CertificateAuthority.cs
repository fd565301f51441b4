using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Bank.Hosting.Security;

/// <summary>
/// The cluster's own CA and the certificates it issues (`bank cert init` / `bank cert issue`), made with .NET's
/// CertificateRequest: ECDSA P-256 keys, SHA-256 signatures, no openssl. The CA's private key stays in its folder:
/// an issued folder gets the leaf, the CA's public certificate and, for a client or admin, its credential.
/// </summary>
public static partial class CertificateAuthority
{
    /// <summary>The CA's certificate and private key, in the CA folder only.</summary>
    public const string AuthorityKeyFile = "ca.p12";

    /// <summary>The CA's public certificate (PEM), in the CA folder and in every issued folder.</summary>
    public const string AuthorityCertificateFile = "ca.crt";

    /// <summary>The leaf certificate and its private key, in an issued folder.</summary>
    public const string CertificateFile = "bank.p12";

    /// <summary>The per-request credential of a client or admin, in an issued folder.</summary>
    public const string CredentialFile = "credential";

    /// <summary>The password of every .p12 (or BANK__TLS_PASSWORD_FILE naming a file that holds it); none when unset.</summary>
    public const string PasswordVariable = "BANK__TLS_PASSWORD";

    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3653);

    public static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(365);

    public const int MaxNameLength = 64;

    /// <summary>Backdating covers clocks of the cluster's machines that run a little behind the issuer's.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private static readonly string[] DefaultSans = ["127.0.0.1", "localhost"];

    /// <summary>1-64 characters of [A-Za-z0-9._-]: nothing that could read as another part of a distinguished name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>An IP address or a DNS host name (letters, digits, hyphens and dots).</summary>
    public static bool IsValidSan(string? san) =>
        san is { Length: > 0 and <= 253 } && (IPAddress.TryParse(san, out _) || Uri.CheckHostName(san) == UriHostNameType.Dns);

    public static void Init(string outDirectory) => Init(outDirectory, DateTimeOffset.UtcNow);

    /// <summary>Makes a CA valid from <paramref name="now"/> for <see cref="AuthorityLifetime"/> in an empty or new folder.</summary>
    public static void Init(string outDirectory, DateTimeOffset now)
    {
        var password = Secrets.Read(PasswordVariable);
        PrepareEmpty(outDirectory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // A random suffix tells two clusters' CAs apart in logs; trust never rests on the name.
        var subject = new X500DistinguishedName($"CN=Bank cluster CA {RandomNumberGenerator.GetHexString(8, lowercase: true)}");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var authority = request.CreateSelfSigned(now - ClockSkew, now + AuthorityLifetime);
        CertificateFiles.Write(Path.Combine(outDirectory, AuthorityKeyFile), authority.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password));
        CertificateFiles.Write(Path.Combine(outDirectory, AuthorityCertificateFile), authority.ExportCertificatePem() + "\n");
    }

    public static void Issue(string caDirectory, string name, BankRole role, IReadOnlyList<string> sans, string outDirectory) =>
        Issue(caDirectory, name, role, sans, outDirectory, DateTimeOffset.UtcNow, CertificateLifetime);

    /// <summary>
    /// Issues a leaf valid from <paramref name="notBefore"/> for <paramref name="lifetime"/> (never beyond the CA's own
    /// validity), with both TLS usages, the given SANs (127.0.0.1 and localhost when none) and the role extension.
    /// </summary>
    public static void Issue(string caDirectory, string name, BankRole role, IReadOnlyList<string> sans, string outDirectory,
        DateTimeOffset notBefore, TimeSpan lifetime)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"a certificate name is 1-{MaxNameLength} characters of A-Z a-z 0-9 . _ -", nameof(name));
        if (sans.FirstOrDefault(san => !IsValidSan(san)) is { } badSan)
            throw new ArgumentException($"'{badSan}' is neither an IP address nor a DNS name", nameof(sans));

        var password = Secrets.Read(PasswordVariable);
        using var authority = LoadAuthority(caDirectory, password);
        using var caKey = authority.GetECDsaPrivateKey()
            ?? throw new TlsSetupException($"{Path.Combine(caDirectory, AuthorityKeyFile)} holds no ECDSA private key");
        PrepareEmpty(outDirectory);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(TlsUsages.ServerAuth), new Oid(TlsUsages.ClientAuth)], false));
        request.CertificateExtensions.Add(AlternativeNames(sans.Count > 0 ? sans : DefaultSans));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        request.CertificateExtensions.Add(RoleExtension.Create(role));

        // CertificateRequest refuses a leaf that outlives its issuer or starts before it.
        var caNotBefore = new DateTimeOffset(authority.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var caNotAfter = new DateTimeOffset(authority.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var from = notBefore - ClockSkew < caNotBefore ? caNotBefore : notBefore - ClockSkew;
        var until = notBefore + lifetime > caNotAfter ? caNotAfter : notBefore + lifetime;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive INTEGER in DER
        using var issued = request.Create(authority, from, until, serial);
        using var leaf = issued.CopyWithPrivateKey(key);

        CertificateFiles.Write(Path.Combine(outDirectory, CertificateFile), leaf.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password));
        CertificateFiles.Write(Path.Combine(outDirectory, AuthorityCertificateFile), authority.ExportCertificatePem() + "\n");
        if (role != BankRole.Node)
        {
            var claims = new CredentialClaims(name, role, Convert.ToHexStringLower(serial), until);
            CertificateFiles.Write(Path.Combine(outDirectory, CredentialFile), Credentials.Sign(caKey, claims) + "\n");
        }
    }

    private static X509Certificate2 LoadAuthority(string caDirectory, string? password)
    {
        var file = Path.Combine(caDirectory, AuthorityKeyFile);
        if (!File.Exists(file))
            throw new TlsSetupException($"no CA in {caDirectory}: {AuthorityKeyFile} is missing (make one with `bank cert init --out {caDirectory}`)");
        var authority = CertificateFiles.LoadPkcs12(file, password);
        if (!authority.HasPrivateKey || !CertificateFiles.IsAuthority(authority))
        {
            authority.Dispose();
            throw new TlsSetupException($"{file} is not a CA certificate with its private key");
        }
        return authority;
    }

    private static X509Extension AlternativeNames(IEnumerable<string> sans)
    {
        var builder = new SubjectAlternativeNameBuilder();
        foreach (var san in sans.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(san, out var address)) builder.AddIpAddress(address);
            else builder.AddDnsName(san);
        }
        return builder.Build();
    }

    /// <summary>A new folder, or an existing empty one: a CA or a key is never overwritten.</summary>
    private static void PrepareEmpty(string directory)
    {
        if (File.Exists(directory) || (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any()))
            throw new TlsSetupException($"refusing to overwrite {directory}: it exists and is not empty");
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>The extended key usages of a TLS leaf.</summary>
internal static class TlsUsages
{
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";
}
