using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace Bank.Hosting.Serialization;

/// <summary>
/// Nothing received from the network is instantiated by a type name it carries (DESIGN.md section 8). Akka registers
/// Newtonsoft JSON (identifier 1) for every unbound type, which resolves the manifest's type name and the payload's
/// "$type"s; remote deployment (identifier 3) resolves the type names in Props. Both are replaced by serializers that
/// refuse under the same identifiers, and an unbound type fails at the sender (allow-unregistered-types = off).
/// </summary>
public static class StrictSerialization
{
    /// <summary>For every Bank actor system (node, client, door): takes precedence over Akka's own defaults.</summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers {
            json = "{{TypeName<RefusedJsonSerializer>()}}"
            daemon-create = "{{TypeName<RefusedRemoteDeploymentSerializer>()}}"
          }
          serialization-settings.allow-unregistered-types = off
        }
        """);

    private static string TypeName<T>() => $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}";
}

/// <summary>Stands in for a serializer whose payloads name the types to build: refuses both ways, loading nothing.</summary>
public abstract class RefusingSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>What the replaced serializer did, for the refusal's one line.</summary>
    protected abstract string Replaced { get; }

    public override string Manifest(object o) => throw Unbound(o);

    public override byte[] ToBinary(object obj) => throw Unbound(obj);

    // A string-manifest serializer: Akka hands over the manifest as text and resolves no type before calling this.
    public override object FromBinary(byte[] bytes, string manifest) =>
        throw new SerializationException(
            $"refused a payload for {Replaced} (serializer {Identifier}, manifest '{Printable(manifest)}'): " +
            "Bank builds no type a message names");

    /// <summary>The manifest as sent, on one line and cut to a length that keeps a log line readable.</summary>
    private static string Printable(string? manifest) =>
        new((manifest ?? "").Take(300).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private SerializationException Unbound(object value) =>
        new($"{value.GetType().FullName} has no serializer binding; {Replaced} is refused in Bank (bind the type to Bank's serializer)");
}

/// <summary>Identifier 1, Akka's Newtonsoft JSON fallback for unbound types.</summary>
public sealed class RefusedJsonSerializer(ExtendedActorSystem system) : RefusingSerializer(system)
{
    /// <summary>Akka passes the replaced serializer's settings (akka.actor.serialization-settings) when it has any.</summary>
    public RefusedJsonSerializer(ExtendedActorSystem system, Config settings) : this(system) => _ = settings;

    public override int Identifier => 1;

    protected override string Replaced => "Akka's JSON fallback";
}

/// <summary>Identifier 3, Akka.Remote's DaemonMsgCreate: Bank never deploys actors remotely.</summary>
public sealed class RefusedRemoteDeploymentSerializer(ExtendedActorSystem system) : RefusingSerializer(system)
{
    /// <summary>Akka passes the replaced serializer's settings (akka.actor.serialization-settings) when it has any.</summary>
    public RefusedRemoteDeploymentSerializer(ExtendedActorSystem system, Config settings) : this(system) => _ = settings;

    public override int Identifier => 3;

    protected override string Replaced => "remote deployment";
}
