using System.Security.Cryptography.X509Certificates;
using Akka.TestKit.Xunit2;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>The callback Akka.Remote's TLS calls says yes to our nodes and logs every refusal in one WARNING line.</summary>
[Collection(SecurityCollection.Name)]
public sealed class PeerRefusalLogSpecs(IssuedCertificates issued) : TestKit, IClassFixture<IssuedCertificates>
{
    [Fact]
    public void A_refused_peer_is_logged_once_as_a_warning_with_its_address_and_why()
    {
        var accept = PeerCertificates.Accept(issued.Authority, BankRole.Node);
        var stranger = TlsIdentity.Load(issued.OtherNode).Certificate;
        using var chain = new X509Chain();
        EventFilter.Warning(start: "refused TLS peer 127.0.0.1:4053: ").ExpectOne(() =>
            Assert.False(accept(stranger, chain, "127.0.0.1:4053", System.Net.Security.SslPolicyErrors.None, Log)));
        EventFilter.Warning(contains: "has role client").ExpectOne(() =>
            Assert.False(accept(TlsIdentity.Load(issued.Client).Certificate, chain, "127.0.0.1:4054", System.Net.Security.SslPolicyErrors.None, Log)));
        EventFilter.Warning().Expect(0, () =>
            Assert.True(accept(TlsIdentity.Load(issued.Node).Certificate, chain, "127.0.0.1:4055", System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, Log)));
    }
}
