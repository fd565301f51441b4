using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// A TestKit over a node that a test started itself, for AwaitAssert and ExpectMsg. The node owns the actor system:
/// disposing the kit stops only its TestActor.
/// </summary>
public sealed class NodeTestKit(ActorSystem system) : TestKitBase(new XunitAssertions(), system), IDisposable
{
    public void Dispose() => Sys.Stop(TestActor);
}
