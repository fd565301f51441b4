using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Serialization;
using Google.Protobuf;

namespace Bank.Hosting.Serialization;

/// <summary>
/// Identifier 3, Akka.Remote's DaemonMsgCreate, behind an allow-list: a cluster-aware router pool (the state store's
/// persistence workers) deploys its routees on other members, so remote deployment is needed, but only of the actor types
/// <c>bank.serialization.remote-deployable</c> names. The actor's type name is read from the payload's protobuf as text
/// and compared before Akka's own serializer resolves any type, so no other name is ever loaded or built.
/// </summary>
// A string-manifest serializer: Akka hands over the manifest as text and resolves no type before calling it.
public sealed class RemoteDeploymentGuard : Akka.Serialization.SerializerWithStringManifest
{
    private readonly DaemonMsgCreateSerializer _inner;
    private readonly HashSet<string> _allowed;

    public RemoteDeploymentGuard(ExtendedActorSystem system) : this(system, Config.Empty)
    {
    }

    /// <summary>Akka passes the replaced serializer's settings (akka.actor.serialization-settings) when it has any.</summary>
    public RemoteDeploymentGuard(ExtendedActorSystem system, Config settings) : base(system)
    {
        _ = settings;
        _inner = new DaemonMsgCreateSerializer(system);
        _allowed = [.. system.Settings.Config.GetStringList("bank.serialization.remote-deployable", []).Select(Normalized)];
    }

    public override int Identifier => 3;

    public override string Manifest(object o) => "";

    // Only DaemonMsgCreate is bound to identifier 3 (Akka's type is internal).
    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var actor = ActorTypeOf(bytes);
        if (actor is null || !_allowed.Contains(Normalized(actor)))
            throw new SerializationException(
                $"refused remote deployment of '{RefusingSerializer.Printable(actor)}': Bank deploys only its own allow-listed actors on other members");
        return _inner.FromBinary(bytes, null);
    }

    /// <summary>DaemonMsgCreateData.props (field 1) -> PropsData.clazz (field 3), read as text; null when absent.</summary>
    internal static string? ActorTypeOf(byte[] bytes)
    {
        try
        {
            var create = new CodedInputStream(bytes);
            while (create.ReadTag() is var tag and not 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) != 1 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    create.SkipLastField();
                    continue;
                }

                var props = new CodedInputStream(create.ReadBytes().ToByteArray());
                while (props.ReadTag() is var inner and not 0)
                {
                    if (WireFormat.GetTagFieldNumber(inner) == 3 && WireFormat.GetTagWireType(inner) == WireFormat.WireType.LengthDelimited)
                        return props.ReadString();
                    props.SkipLastField();
                }
            }
        }
        catch (InvalidProtocolBufferException)
        {
        }

        return null;
    }

    /// <summary>"Namespace.Type, Assembly[, Version=...]" as "Namespace.Type, Assembly".</summary>
    private static string Normalized(string typeName) =>
        string.Join(", ", typeName.Split(',', StringSplitOptions.TrimEntries).Take(2));
}
