using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bank.Hosting.Security;

/// <summary>
/// The role lives in a private certificate extension, not in the subject, so no --name ("admin", "OU=admin") can grant
/// one. Its OID is under Bank's own arc 2.25.79951309384571235633669544811361011244 (a UUID OID, ITU-T X.667: unique
/// without registration); ".1" is the role, a DER UTF8String "node", "client" or "admin". Not critical, so TLS stacks
/// that do not know it still build the chain.
/// </summary>
internal static class RoleExtension
{
    public const string Arc = "2.25.79951309384571235633669544811361011244";

    public const string Oid = Arc + ".1";

    public static X509Extension Create(BankRole role)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.UTF8String, role.Text());
        return new X509Extension(new Oid(Oid), writer.Encode(), critical: false);
    }

    /// <summary>The role, or null unless the certificate carries exactly one well-formed role extension.</summary>
    public static BankRole? Read(X509Certificate2 certificate)
    {
        var found = certificate.Extensions.Cast<X509Extension>().Where(e => e.Oid?.Value == Oid).ToList();
        if (found.Count != 1)
            return null;
        try
        {
            var reader = new AsnReader(found[0].RawData, AsnEncodingRules.DER);
            var text = reader.ReadCharacterString(UniversalTagNumber.UTF8String);
            reader.ThrowIfNotEmpty();
            return BankRoles.Parse(text);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return null;
        }
    }
}
