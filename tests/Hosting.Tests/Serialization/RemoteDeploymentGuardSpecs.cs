using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Bank.Hosting.Serialization;
using Google.Protobuf;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Remote deployment (Akka's DaemonMsgCreate, identifier 3) is needed by the state store's cluster-aware pool, so it is
/// guarded, not refused: the actor type is read from the payload as text, and only an allow-listed one reaches Akka's
/// own serializer, which would resolve (and load) whatever type the payload names.
/// </summary>
public sealed class RemoteDeploymentGuardSpecs : IDisposable
{
    private const string Worker = "Bank.Hosting.StateStore.StateStoreWorker, Bank.Hosting";

    private readonly ActorSystem _system = ActorSystem.Create("guard", ConfigurationFactory.ParseString(
        $"bank.serialization.remote-deployable = [\"{Worker}\"]"));

    [Fact]
    public void The_actor_type_is_read_from_the_payload_as_text()
    {
        Assert.Equal(Worker, RemoteDeploymentGuard.ActorTypeOf(Deployment(Worker)));
        Assert.Null(RemoteDeploymentGuard.ActorTypeOf([0xFF, 0xFF, 0xFF]));
    }

    [Theory]
    [InlineData("System.Diagnostics.Process, System.Diagnostics.Process")]
    [InlineData("Bank.Hosting.StateStore.StateStoreWorkerX, Bank.Hosting")]
    [InlineData("Bank.Hosting.StateStore.StateStoreWorker, Evil")]
    public void Any_other_actor_type_is_refused_before_akka_resolves_it(string actorType)
    {
        var guard = new RemoteDeploymentGuard((ExtendedActorSystem)_system);

        var refusal = Assert.Throws<SerializationException>(() => guard.FromBinary(Deployment(actorType), ""));
        Assert.Contains("refused remote deployment", refusal.Message);
    }

    [Fact]
    public void The_allow_listed_worker_passes_the_guard_to_akkas_own_serializer()
    {
        var guard = new RemoteDeploymentGuard((ExtendedActorSystem)_system);

        // Past the guard, Akka's serializer reads the rest of the (here incomplete) payload: not a refusal of the guard.
        var failure = Record.Exception(() => guard.FromBinary(Deployment(Worker + ", Version=1.0.0.0"), ""));
        Assert.False(failure is SerializationException { Message: var m } && m.Contains("refused remote deployment"), failure?.Message);
    }

    /// <summary>A DaemonMsgCreateData whose props (field 1) name <paramref name="actorType"/> (PropsData.clazz, field 3).</summary>
    private static byte[] Deployment(string actorType)
    {
        using var props = new MemoryStream();
        var writer = new CodedOutputStream(props);
        writer.WriteTag(3, WireFormat.WireType.LengthDelimited);
        writer.WriteString(actorType);
        writer.Flush();
        using var create = new MemoryStream();
        var outer = new CodedOutputStream(create);
        outer.WriteTag(1, WireFormat.WireType.LengthDelimited);
        outer.WriteBytes(ByteString.CopyFrom(props.ToArray()));
        outer.Flush();
        return create.ToArray();
    }

    public void Dispose() => _system.Dispose();
}
