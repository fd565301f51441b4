using System.Security.Cryptography.X509Certificates;

namespace Bank.Hosting.Security;

/// <summary>A TLS setup problem told in one line: a missing file, a wrong password, a certificate of another CA.</summary>
public sealed class TlsSetupException(string message) : Exception(message);

/// <summary>What `--tls DIR` holds, loaded and checked (leaf chains to the DIR's ca.crt, has a private key, not expired).</summary>
public sealed class TlsIdentity
{
    /// <summary>The leaf, with its private key.</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>The cluster CA, public only.</summary>
    public required X509Certificate2 Authority { get; init; }

    public required BankRole Role { get; init; }

    public required string Name { get; init; }

    /// <summary>Client/admin: the contents of DIR/credential; null for a node.</summary>
    public string? Credential { get; init; }

    /// <summary>The folder `--tls` names when the flag is absent.</summary>
    public const string DirectoryVariable = "BANK__TLS";

    /// <summary>Loads a folder written by `bank cert issue`; throws <see cref="TlsSetupException"/> with one line naming what is wrong.</summary>
    public static TlsIdentity Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new TlsSetupException($"TLS folder {directory} does not exist (make one with `bank cert issue`)");
        var leafFile = Path.Combine(directory, CertificateAuthority.CertificateFile);
        var authorityFile = Path.Combine(directory, CertificateAuthority.AuthorityCertificateFile);
        if (!File.Exists(leafFile))
            throw new TlsSetupException($"TLS folder {directory} has no {CertificateAuthority.CertificateFile} (make one with `bank cert issue`)");
        if (!File.Exists(authorityFile))
            throw new TlsSetupException($"TLS folder {directory} has no {CertificateAuthority.AuthorityCertificateFile} (copy the CA's public certificate there)");

        var authority = CertificateFiles.LoadPublic(authorityFile);
        if (!CertificateFiles.IsAuthority(authority))
            throw new TlsSetupException($"{authorityFile} is not a CA certificate");
        var leaf = CertificateFiles.LoadPkcs12(leafFile, Secrets.Read(CertificateAuthority.PasswordVariable));
        if (!leaf.HasPrivateKey)
            throw new TlsSetupException($"{leafFile} holds no private key");
        if (!PeerCertificates.IsAccepted(leaf, authority, [BankRole.Node, BankRole.Client, BankRole.Admin], out var why))
            throw new TlsSetupException($"{leafFile} is refused: {why}");
        var role = PeerCertificates.RoleOf(leaf)!.Value;
        var name = leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return new TlsIdentity
        {
            Certificate = leaf,
            Authority = authority,
            Role = role,
            Name = name,
            Credential = role == BankRole.Node ? null : LoadCredential(directory, authority, name, role),
        };
    }

    private static string LoadCredential(string directory, X509Certificate2 authority, string name, BankRole role)
    {
        var file = Path.Combine(directory, CertificateAuthority.CredentialFile);
        if (!File.Exists(file))
            throw new TlsSetupException($"TLS folder {directory} has no {CertificateAuthority.CredentialFile}: a {role.Text()} certificate comes with one from `bank cert issue`");
        var credential = File.ReadAllText(file).Trim();
        using var key = authority.GetECDsaPublicKey() ?? throw new TlsSetupException("the cluster CA's certificate holds no ECDSA key");
        var claims = Credentials.Read(credential, key);
        if (claims is null || claims.Name != name || claims.Role != role)
            throw new TlsSetupException($"{file} does not belong to the certificate in {directory}");
        if (claims.NotAfter <= DateTimeOffset.UtcNow)
            throw new TlsSetupException($"{file} has expired");
        return credential;
    }
}
