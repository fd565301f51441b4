using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Akka.Util;

namespace Bank.Hosting.Serialization;

/// <summary>
/// Nothing received from the network is instantiated by a type name it carries (DESIGN.md section 8). Akka registers
/// Newtonsoft JSON (identifier 1) for every unbound type, which resolves the manifest's type name and the payload's
/// "$type"s: it is replaced by a serializer that refuses under the same identifier; remote deployment (identifier 3)
/// resolves the type names in Props: <see cref="RemoteDeploymentGuard"/> lets through only allow-listed actor types; Akka's serializers without a string manifest run behind a
/// <see cref="TypeNameGuard"/>, and an unbound type fails at the sender (allow-unregistered-types = off).
/// </summary>
public static class StrictSerialization
{
    /// <summary>
    /// Akka's serializers without a string manifest: before they are called, Akka resolves the manifest as a type name,
    /// which loads any assembly it names. Each runs behind a <see cref="TypeNameGuard"/> under its own identifier.
    /// </summary>
    private const string PersistenceMessages = "Akka.Persistence.Serialization.PersistenceMessageSerializer, Akka.Persistence";
    private const string PersistenceSnapshots = "Akka.Persistence.Serialization.PersistenceSnapshotSerializer, Akka.Persistence";

    private static readonly (string Name, string Serializer)[] Guarded =
    [
        ("null", "Akka.Serialization.NullSerializer, Akka"),
        ("bytes", "Akka.Serialization.ByteArraySerializer, Akka"),
        ("proto", "Akka.Remote.Serialization.ProtobufSerializer, Akka.Remote"),
        ("akka-containers", "Akka.Remote.Serialization.MessageContainerSerializer, Akka.Remote"),
        ("akka-system-msg", "Akka.Remote.Serialization.SystemMessageSerializer, Akka.Remote"),
        ("akka-persistence-message", PersistenceMessages),
        ("akka-persistence-snapshot", PersistenceSnapshots),
    ];

    /// <summary>For every Bank actor system (node, client, door): takes precedence over Akka's own defaults.</summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString($$"""
        # The guard of "null" takes identifier 0 from Akka's NullSerializer on purpose: no warning at every start.
        akka.log-serializer-override-on-start = off
        akka.actor {
          serializers {
            json = "{{TypeName<RefusedJsonSerializer>()}}"
            daemon-create = "{{TypeName<RemoteDeploymentGuard>()}}"
            {{string.Join("\n    ", Guarded.Select(g => $"\"{g.Name}\" = \"{TypeName<TypeNameGuard>()}\""))}}
          }
          # Akka.Persistence adds its identifiers only when it starts, after the serializers are first made.
          serialization-identifiers { "{{PersistenceMessages}}" = 7, "{{PersistenceSnapshots}}" = 8 }
          serialization-settings {
            allow-unregistered-types = off
            {{string.Join("\n    ", Guarded.Select(g => $"\"{g.Name}\" {{ guarded = \"{g.Serializer}\", name = \"{g.Name}\" }}"))}}
          }
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
    internal static string Printable(string? manifest) =>
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

/// <summary>
/// One of Akka's serializers that take a type rather than a manifest string, behind a guard: a manifest resolves only to a
/// type of an assembly already loaded that is bound to this serializer in akka.actor.serialization-bindings, so a payload
/// loads no assembly and reaches no type the serializer was not meant for. The bytes on the wire are the same.
/// </summary>
public sealed class TypeNameGuard : SerializerWithStringManifest
{
    private readonly Serializer _guarded;
    private readonly Lazy<Type[]> _bound;
    private readonly ConcurrentDictionary<string, Type> _resolved = new(StringComparer.Ordinal);

    /// <param name="settings">akka.actor.serialization-settings.NAME: <c>guarded</c>, the serializer's type; <c>name</c>, NAME.</param>
    public TypeNameGuard(ExtendedActorSystem system, Config settings) : base(system)
    {
        var guarded = settings.GetString("guarded");
        var type = Type.GetType(guarded) ?? throw new ConfigurationException($"TypeNameGuard: no serializer type {guarded}");
        _guarded = (Serializer)Activator.CreateInstance(type, system)!;
        var name = settings.GetString("name");
        // Bindings are read at first use: extensions add theirs to the configuration after the serializers are made.
        _bound = new Lazy<Type[]>(() => system.Settings.Config.GetConfig("akka.actor.serialization-bindings").AsEnumerable()
            .Where(binding => binding.Value.GetString() == name)
            .Select(binding => Type.GetType(binding.Key))
            .OfType<Type>()
            .ToArray());
    }

    public override int Identifier => _guarded.Identifier;

    public override string Manifest(object o) => _guarded.IncludeManifest ? o.GetType().TypeQualifiedName() : string.Empty;

    public override byte[] ToBinary(object obj) => _guarded.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) =>
        _guarded.FromBinary(bytes, string.IsNullOrEmpty(manifest) ? null : Resolve(manifest));

    private Type Resolve(string manifest)
    {
        if (_resolved.TryGetValue(manifest, out var known)) return known;
        var type = Type.GetType(manifest, LoadedOnly, (assembly, name, ignoreCase) => (assembly ?? typeof(object).Assembly).GetType(name, false, ignoreCase),
            throwOnError: false);
        if (type is null || !_bound.Value.Any(bound => bound.IsAssignableFrom(type)))
            throw new SerializationException(
                $"refused a payload for serializer {Identifier} naming '{RefusingSerializer.Printable(manifest)}': not a type bound to it in a loaded assembly");
        // Only bound types get here, so the cache stays as small as the bound families.
        _resolved.TryAdd(manifest, type);
        return type;
    }

    private static Assembly? LoadedOnly(AssemblyName name) =>
        AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(loaded => loaded.GetName().Name == name.Name);
}
