using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>A TLS peer is accepted only with a certificate of the cluster's own CA, in its validity, with an allowed role.</summary>
[Collection(SecurityCollection.Name)]
public sealed class PeerCertificatesSpecs(IssuedCertificates issued) : IClassFixture<IssuedCertificates>
{
    private static readonly BankRole[] Nodes = [BankRole.Node];

    private static readonly BankRole[] Callers = [BankRole.Client, BankRole.Admin];

    [Fact]
    public void A_node_certificate_of_our_CA_is_accepted_where_nodes_are()
    {
        var node = TlsIdentity.Load(issued.Node);
        Assert.True(PeerCertificates.IsAccepted(Public(node.Certificate), issued.Authority, Nodes, out var why), why);
        Assert.Equal(BankRole.Node, PeerCertificates.RoleOf(node.Certificate));
    }

    [Fact]
    public void Client_and_admin_certificates_are_refused_where_only_nodes_are_accepted()
    {
        foreach (var folder in new[] { issued.Client, issued.Admin })
        {
            var caller = TlsIdentity.Load(folder);
            Assert.False(PeerCertificates.IsAccepted(caller.Certificate, issued.Authority, Nodes, out var why));
            Assert.Contains("not node", why);
            Assert.True(PeerCertificates.IsAccepted(caller.Certificate, issued.Authority, Callers, out why), why);
        }
        Assert.False(PeerCertificates.IsAccepted(TlsIdentity.Load(issued.Node).Certificate, issued.Authority, Callers, out _));
    }

    [Fact]
    public void A_certificate_of_another_CA_is_refused()
    {
        var stranger = TlsIdentity.Load(issued.OtherNode);
        Assert.False(PeerCertificates.IsAccepted(stranger.Certificate, issued.Authority, Nodes, out var why));
        Assert.Contains("does not chain", why);
    }

    [Fact]
    public void No_certificate_is_refused() =>
        Assert.False(PeerCertificates.IsAccepted(null, issued.Authority, Nodes, out _));

    [Fact]
    public void An_expired_certificate_of_our_CA_is_refused()
    {
        var ca = issued.Fresh();
        var now = DateTimeOffset.UtcNow;
        CertificateAuthority.Init(ca, now.AddYears(-3));
        var expired = issued.Fresh();
        CertificateAuthority.Issue(ca, "old", BankRole.Node, [], expired, now.AddYears(-2), TimeSpan.FromDays(365));
        using var leaf = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(expired, CertificateAuthority.CertificateFile), null);
        using var authority = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ca, CertificateAuthority.AuthorityCertificateFile));
        Assert.False(PeerCertificates.IsAccepted(leaf, authority, Nodes, out var why));
        Assert.Contains("expired", why);
        Assert.Contains("expired", Assert.Throws<TlsSetupException>(() => TlsIdentity.Load(expired)).Message);
    }

    [Fact]
    public void A_self_signed_certificate_with_our_CAs_name_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(issued.Authority.SubjectName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(IssuedCertificates.RoleExtension("node"));
        using var impostor = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        Assert.False(PeerCertificates.IsAccepted(impostor, issued.Authority, Nodes, out _));
    }

    [Fact]
    public void A_leaf_of_a_look_alike_CA_with_our_CAs_name_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(issued.Authority.SubjectName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var lookAlike = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10));
        using var leaf = IssuedCertificates.Forge(lookAlike, "CN=node-9", IssuedCertificates.RoleExtension("node"));
        Assert.False(PeerCertificates.IsAccepted(leaf, issued.Authority, Nodes, out _));
    }

    [Fact]
    public void Our_CAs_own_certificate_is_not_a_peer() =>
        Assert.False(PeerCertificates.IsAccepted(issued.Authority, issued.Authority, [BankRole.Node, BankRole.Client, BankRole.Admin], out _));

    [Fact]
    public void A_role_comes_only_from_the_role_extension_never_from_the_name()
    {
        using var authority = issued.AuthorityWithKey();
        using var named = IssuedCertificates.Forge(authority, "CN=admin, OU=admin, O=node");
        Assert.Null(PeerCertificates.RoleOf(named));
        Assert.False(PeerCertificates.IsAccepted(named, issued.Authority, [BankRole.Node, BankRole.Client, BankRole.Admin], out var why));
        Assert.Contains("no Bank role", why);
    }

    [Theory]
    [InlineData("Admin")]
    [InlineData("admin ")]
    [InlineData("root")]
    [InlineData("")]
    public void A_role_extension_with_another_spelling_grants_nothing(string text)
    {
        using var authority = issued.AuthorityWithKey();
        using var leaf = IssuedCertificates.Forge(authority, "CN=x", IssuedCertificates.RoleExtension(text));
        Assert.Null(PeerCertificates.RoleOf(leaf));
    }

    [Fact]
    public void A_malformed_role_extension_grants_nothing()
    {
        using var authority = issued.AuthorityWithKey();
        // "admin" as an OCTET STRING, not the UTF8String the role is written as.
        var malformed = new X509Extension("2.25.79951309384571235633669544811361011244.1", [0x04, 0x05, (byte)'a', (byte)'d', (byte)'m', (byte)'i', (byte)'n'], false);
        using var leaf = IssuedCertificates.Forge(authority, "CN=x", malformed);
        Assert.Null(PeerCertificates.RoleOf(leaf));
    }

    [Fact]
    public async Task Issued_certificates_authenticate_both_ends_of_a_TLS_connection()
    {
        var node = TlsIdentity.Load(issued.Node);
        var client = TlsIdentity.Load(issued.Client);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var serverSide = Serve(listener, node, Callers);
            using var connection = new TcpClient();
            await connection.ConnectAsync(IPAddress.Loopback, port);
            await using var tls = new SslStream(connection.GetStream());
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                ClientCertificates = [client.Certificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    PeerCertificates.IsAccepted(certificate as X509Certificate2, client.Authority, Nodes, out _),
            });
            Assert.True(tls.IsMutuallyAuthenticated);
            await tls.WriteAsync(new byte[] { 42 });
            var (peerRole, received) = await serverSide.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(BankRole.Client, peerRole);
            Assert.Equal(42, received);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_TLS_client_without_a_certificate_is_refused_in_the_handshake()
    {
        var node = TlsIdentity.Load(issued.Node);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var serverSide = Serve(listener, node, Callers);
            using var connection = new TcpClient();
            await connection.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            await using var tls = new SslStream(connection.GetStream());
            try
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "127.0.0.1",
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                });
                // TLS 1.3 tells a client that its (missing) certificate was refused only when it next reads.
                await tls.WriteAsync(new byte[] { 1 });
                _ = await tls.ReadAsync(new byte[1]);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                // Either end may notice first; the server's refusal is what this spec checks.
            }
            await Assert.ThrowsAsync<AuthenticationException>(() => serverSide.WaitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Accepts one connection as the node would: mutual TLS, the peer checked by PeerCertificates; returns the peer's role and first byte.</summary>
    private static async Task<(BankRole?, int)> Serve(TcpListener listener, TlsIdentity node, BankRole[] roles)
    {
        using var accepted = await listener.AcceptTcpClientAsync();
        await using var tls = new SslStream(accepted.GetStream());
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = node.Certificate,
            ClientCertificateRequired = true,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                PeerCertificates.IsAccepted(certificate as X509Certificate2, node.Authority, roles, out _),
        });
        var role = PeerCertificates.RoleOf((X509Certificate2)tls.RemoteCertificate!);
        var buffer = new byte[1];
        var read = await tls.ReadAsync(buffer);
        return (role, read == 1 ? buffer[0] : -1);
    }

    private static X509Certificate2 Public(X509Certificate2 certificate) => X509CertificateLoader.LoadCertificate(certificate.RawData);
}
