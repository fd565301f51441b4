using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Bank.Hosting.Security;

/// <summary>
/// Which TLS peers a listener or a connection accepts: certificates issued by the cluster's own CA, within their
/// validity, carrying one of the allowed roles. The machine's trust store is never consulted, and there is no
/// revocation list: a lost certificate is dealt with by a new CA (documented in docs/configuration.md).
/// </summary>
public static class PeerCertificates
{
    /// <summary>
    /// Akka.Remote's CertificateValidationCallback: accepts a peer certificate only when it chains to `authority`
    /// (custom root trust: the system store is never consulted), is within its validity, and has one of `roles`;
    /// logs one WARNING line "refused TLS peer {remotePeer}: {why}" otherwise.
    /// </summary>
    public static CertificateValidationCallback Accept(X509Certificate2 authority, params BankRole[] roles)
    {
        var allowed = roles.ToHashSet();
        return (certificate, _, remotePeer, _, log) =>
        {
            // The chain and errors Akka passes come from the system's policy; ours is rebuilt from the CA alone.
            if (IsAccepted(certificate, authority, allowed, out var why))
                return true;
            log?.Warning("refused TLS peer {RemotePeer}: {Why}", remotePeer, why);
            return false;
        };
    }

    public static bool IsAccepted(X509Certificate2? peer, X509Certificate2 authority, IReadOnlyCollection<BankRole> roles, out string why)
    {
        if (peer is null)
        {
            why = "no certificate";
            return false;
        }
        var now = DateTime.Now;
        if (now > peer.NotAfter || now < peer.NotBefore)
        {
            why = $"{Describe(peer)} is valid only from {peer.NotBefore.ToUniversalTime():u} to {peer.NotAfter.ToUniversalTime():u} (expired or not yet valid)";
            return false;
        }
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.Add(authority);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true; // never fetch an issuer from the network
        policy.ApplicationPolicy.Add(new(TlsUsages.ServerAuth));
        policy.ApplicationPolicy.Add(new(TlsUsages.ClientAuth));
        try
        {
            if (!chain.Build(peer))
            {
                var problems = chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct();
                why = $"{Describe(peer)} does not chain to the cluster's CA ({string.Join(", ", problems)})";
                return false;
            }
            // A leaf straight under our CA, and that CA byte for byte: a look-alike root with the same name never passes.
            if (chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawDataMemory.Span.SequenceEqual(authority.RawDataMemory.Span))
            {
                why = $"{Describe(peer)} is not issued by the cluster's CA";
                return false;
            }
        }
        finally
        {
            foreach (var element in chain.ChainElements)
                element.Certificate.Dispose();
        }
        if (RoleOf(peer) is not { } role)
        {
            why = $"{Describe(peer)} carries no Bank role";
            return false;
        }
        if (!roles.Contains(role))
        {
            why = $"{Describe(peer)} has role {role.Text()}, not {string.Join(" or ", roles.Select(r => r.Text()))}";
            return false;
        }
        why = "";
        return true;
    }

    /// <summary>The role in the certificate's Bank role extension; null when it has none or a malformed one.</summary>
    public static BankRole? RoleOf(X509Certificate2 certificate) => RoleExtension.Read(certificate);

    private static string Describe(X509Certificate2 certificate) => $"certificate '{certificate.Subject}'";
}
