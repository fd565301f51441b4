using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Akka.TestKit.Xunit2;
using Bank.Hosting.Security;
using Xunit;

namespace Bank.Hosting.Tests.Security;

/// <summary>
/// The certificates and <see cref="PeerCertificates.Accept"/> in Akka.Remote's own TLS (DotNetty, mutual): bare remote
/// ActorSystems on loopback, no node wiring. A node of our CA reaches another node; a node of another CA and a client
/// certificate reach nothing, and the node logs the client it refused.
/// </summary>
[Collection(SecurityCollection.Name)]
public sealed class AkkaRemoteTlsSpecs(IssuedCertificates issued) : TestKit(Tls(issued.Node), "tls-node"), IClassFixture<IssuedCertificates>
{
    private static readonly Config Remote = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, enable-ssl = true }
        """);

    private static ActorSystemSetup Tls(string folder)
    {
        var identity = TlsIdentity.Load(folder);
        return BootstrapSetup.Create().WithConfig(Remote).And(new DotNettySslSetup(identity.Certificate, false, true, false,
            PeerCertificates.Accept(identity.Authority, BankRole.Node)));
    }

    private ActorPath Echo()
    {
        Sys.ActorOf(Props.Create(() => new EchoActor()), "echo");
        return new RootActorPath(((ExtendedActorSystem)Sys).Provider.DefaultAddress) / "user" / "echo";
    }

    [Fact]
    public async Task A_node_of_our_CA_reaches_a_node_over_mutual_TLS()
    {
        var echo = Echo();
        var peer = ActorSystem.Create("tls-peer", Tls(issued.Node));
        try
        {
            var target = await peer.ActorSelection(echo).ResolveOne(TimeSpan.FromSeconds(30));
            Assert.Equal("hello", await target.Ask<string>("hello", TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await peer.Terminate();
        }
    }

    [Fact]
    public async Task A_node_of_another_CA_reaches_nothing()
    {
        var echo = Echo();
        var stranger = ActorSystem.Create("tls-stranger", Tls(issued.OtherNode));
        try
        {
            await Assert.ThrowsAsync<ActorNotFoundException>(() => stranger.ActorSelection(echo).ResolveOne(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            await stranger.Terminate();
        }
    }

    [Fact]
    public async Task A_client_certificate_of_our_CA_reaches_no_node_and_is_logged_as_refused()
    {
        var echo = Echo();
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        var client = ActorSystem.Create("tls-client", Tls(issued.Client));
        try
        {
            await Assert.ThrowsAsync<ActorNotFoundException>(() => client.ActorSelection(echo).ResolveOne(TimeSpan.FromSeconds(5)));
            warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("refused TLS peer") && w.Message.ToString()!.Contains("has role client"),
                TimeSpan.FromSeconds(20));
        }
        finally
        {
            await client.Terminate();
        }
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => Receive<string>(text => Sender.Tell(text));
    }
}
