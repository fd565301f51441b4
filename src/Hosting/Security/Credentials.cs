using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Bank.Hosting.Security;

/// <summary>What a credential says about its holder: the certificate's name, role, serial and end of validity.</summary>
public sealed record CredentialClaims(string Name, BankRole Role, string Serial, DateTimeOffset NotAfter);

/// <summary>
/// The credential of a client or admin: "bank1.&lt;payload&gt;.&lt;signature&gt;", both base64url without padding.
/// The payload is four lines, "name\nrole\nserial\nnot-after (Unix seconds)"; the signature is ECDSA P-256 SHA-256
/// (IEEE P1363) by the CA's key over a domain prefix and the payload, so nothing else the CA signs can pass for one.
/// Checking needs only the CA's public certificate.
/// </summary>
internal static class Credentials
{
    public const string Prefix = "bank1.";

    /// <summary>Anything longer is refused before any decoding: a credential is about 200 characters.</summary>
    public const int MaxLength = 1024;

    private static readonly byte[] Domain = "bank credential v1\n"u8.ToArray();

    public static string Sign(ECDsa caKey, CredentialClaims claims)
    {
        var payload = Encoding.UTF8.GetBytes(
            $"{claims.Name}\n{claims.Role.Text()}\n{claims.Serial}\n{claims.NotAfter.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}");
        var signature = caKey.SignData(Signed(payload), HashAlgorithmName.SHA256);
        return Prefix + Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>The claims of a well-formed credential whose signature the CA's public key verifies; null otherwise (expiry is the caller's).</summary>
    public static CredentialClaims? Read(string credential, ECDsa caPublicKey)
    {
        if (credential.Length > MaxLength || !credential.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        var parts = credential[Prefix.Length..].Split('.');
        if (parts.Length != 2 || Decode(parts[0]) is not { } payload || Decode(parts[1]) is not { } signature)
            return null;
        if (!caPublicKey.VerifyData(Signed(payload), signature, HashAlgorithmName.SHA256))
            return null;
        return Parse(payload);
    }

    private static CredentialClaims? Parse(byte[] payload)
    {
        var fields = Encoding.UTF8.GetString(payload).Split('\n');
        if (fields.Length != 4 || !CertificateAuthority.IsValidName(fields[0]))
            return null;
        if (BankRoles.Parse(fields[1]) is not ({ } role and (BankRole.Client or BankRole.Admin)))
            return null;
        if (fields[2].Length is 0 or > 40 || !fields[2].All(char.IsAsciiHexDigitLower))
            return null;
        if (!fields[3].All(char.IsAsciiDigit) || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            return null;
        return new CredentialClaims(fields[0], role, fields[2], DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    /// <summary>Only the canonical encoding: a credential has exactly one spelling.</summary>
    private static byte[]? Decode(string text)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(text);
            return Base64Url.EncodeToString(bytes) == text ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static byte[] Signed(byte[] payload) => [.. Domain, .. payload];
}
