using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Bank.Hosting.Security;

/// <summary>Reading and writing the files of a CA or an issued folder: owner-only on Unix, passwords from the environment.</summary>
internal static class CertificateFiles
{
    /// <summary>Created owner-only (0600) from the first byte on Unix, and never over an existing file.</summary>
    public static void Write(string path, byte[] contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(contents);
    }

    public static void Write(string path, string contents) => Write(path, Encoding.ASCII.GetBytes(contents));

    /// <summary>Ephemeral keys: nothing is written to a user key store, and SslStream on Linux serves with them.</summary>
    public static X509Certificate2 LoadPkcs12(string path, string? password)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException)
        {
            throw new TlsSetupException(
                $"cannot open {path}: wrong or missing password (set {CertificateAuthority.PasswordVariable} or {CertificateAuthority.PasswordVariable}_FILE as when it was made)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsSetupException($"cannot read {path}: {Secrets.Why(e)}");
        }
    }

    public static X509Certificate2 LoadPublic(string path)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException)
        {
            throw new TlsSetupException($"{path} is not a certificate");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsSetupException($"cannot read {path}: {Secrets.Why(e)}");
        }
    }

    public static bool IsAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().SingleOrDefault() is { CertificateAuthority: true };
}
