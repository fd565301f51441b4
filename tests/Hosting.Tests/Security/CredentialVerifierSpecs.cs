using System.Buffers.Text;
using System.Text;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>A credential proves its role only when our CA signed it, unchanged and unexpired; checks are cached by hash.</summary>
[Collection(SecurityCollection.Name)]
public sealed class CredentialVerifierSpecs(IssuedCertificates issued) : IClassFixture<IssuedCertificates>
{
    private string ClientCredential => TlsIdentity.Load(issued.Client).Credential!;

    private string AdminCredential => TlsIdentity.Load(issued.Admin).Credential!;

    [Fact]
    public void Issued_credentials_prove_their_roles_and_nodes_have_none()
    {
        var verifier = new CredentialVerifier(issued.Authority);
        Assert.Equal(BankRole.Client, verifier.Verify(ClientCredential));
        Assert.Equal(BankRole.Admin, verifier.Verify(AdminCredential));
        Assert.Null(TlsIdentity.Load(issued.Node).Credential);
    }

    [Fact]
    public void A_credential_of_another_CA_proves_nothing()
    {
        var stranger = TlsIdentity.Load(issued.OtherClient).Credential!;
        Assert.Null(new CredentialVerifier(issued.Authority).Verify(stranger));
        Assert.Equal(BankRole.Client, new CredentialVerifier(TlsIdentity.Load(issued.OtherClient).Authority).Verify(stranger));
    }

    [Fact]
    public void A_credential_whose_role_was_rewritten_proves_nothing()
    {
        var parts = ClientCredential.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        var promoted = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.Replace("\nclient\n", "\nadmin\n")))}.{parts[2]}";
        Assert.NotEqual(ClientCredential, promoted);
        Assert.Null(new CredentialVerifier(issued.Authority).Verify(promoted));
    }

    [Fact]
    public void A_credential_with_any_character_changed_proves_nothing()
    {
        var verifier = new CredentialVerifier(issued.Authority);
        var credential = ClientCredential;
        for (var i = 0; i < credential.Length; i++)
        {
            var changed = credential[..i] + (credential[i] == 'A' ? 'B' : 'A') + credential[(i + 1)..];
            Assert.Null(verifier.Verify(changed));
        }
        Assert.Equal(BankRole.Client, verifier.Verify(credential));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bank1.")]
    [InlineData("bank1..")]
    [InlineData("client")]
    [InlineData("admin")]
    [InlineData("bank1.YWRtaW4.YWRtaW4")]
    public void Malformed_credentials_prove_nothing(string? credential) =>
        Assert.Null(new CredentialVerifier(issued.Authority).Verify(credential));

    [Fact]
    public void An_oversized_credential_is_refused_before_any_check()
    {
        var verifier = new CredentialVerifier(issued.Authority);
        Assert.Null(verifier.Verify(ClientCredential + new string('A', 2000)));
        Assert.Equal(0, verifier.SignatureChecks);
    }

    [Fact]
    public void A_credential_is_checked_once_then_known_by_its_hash()
    {
        var verifier = new CredentialVerifier(issued.Authority);
        for (var i = 0; i < 5; i++)
            Assert.Equal(BankRole.Client, verifier.Verify(ClientCredential));
        Assert.Equal(1, verifier.SignatureChecks);
        Assert.Equal(BankRole.Admin, verifier.Verify(AdminCredential));
        Assert.Equal(2, verifier.SignatureChecks);
    }

    [Fact]
    public void Refused_credentials_are_not_remembered_as_good()
    {
        var verifier = new CredentialVerifier(issued.Authority);
        var stranger = TlsIdentity.Load(issued.OtherClient).Credential!;
        Assert.Null(verifier.Verify(stranger));
        Assert.Null(verifier.Verify(stranger));
        Assert.Equal(2, verifier.SignatureChecks);
    }

    [Fact]
    public void A_credential_stops_proving_anything_when_it_expires_even_once_cached()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var verifier = new CredentialVerifier(issued.Authority, clock);
        Assert.Equal(BankRole.Client, verifier.Verify(ClientCredential));
        clock.Now = clock.Now.AddDays(400);
        Assert.Null(verifier.Verify(ClientCredential));
        Assert.Null(new CredentialVerifier(issued.Authority, clock).Verify(ClientCredential));
    }

    [Fact]
    public void The_cache_is_bounded_and_forgets_the_oldest_first()
    {
        var verifier = new CredentialVerifier(issued.Authority, TimeProvider.System, capacity: 2);
        var (a, b, c) = (ClientCredential, AdminCredential, TlsIdentity.Load(issued.SecondClient).Credential!);
        Assert.Equal(BankRole.Client, verifier.Verify(a));
        Assert.Equal(BankRole.Admin, verifier.Verify(b));
        Assert.Equal(BankRole.Client, verifier.Verify(c));
        Assert.Equal(3, verifier.SignatureChecks);
        verifier.Verify(b);
        verifier.Verify(c);
        Assert.Equal(3, verifier.SignatureChecks);
        Assert.Equal(BankRole.Client, verifier.Verify(a));
        Assert.Equal(4, verifier.SignatureChecks);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
