using Akka.Actor;
using Akka.Serialization;
using Akka.Util;

namespace Bank.Hosting.Journal;

/// <summary>
/// A payload as Akka.Persistence.Sql stores it (bytes, serializer id, manifest), so the rows our writers add read back
/// through the plugin's own replays, loads and queries.
/// </summary>
public readonly record struct StoredPayload(byte[] Bytes, int SerializerId, string Manifest)
{
    public static StoredPayload Of(ExtendedActorSystem system, object payload, string? defaultSerializer)
    {
        var serializer = system.Serialization.FindSerializerForType(payload.GetType(), defaultSerializer);
        var manifest = serializer switch
        {
            SerializerWithStringManifest withManifest => withManifest.Manifest(payload),
            _ when serializer.IncludeManifest => payload.GetType().TypeQualifiedName(),
            _ => string.Empty,
        };
        var bytes = Akka.Serialization.Serialization.WithTransport(system, (serializer, payload), static state => state.serializer.ToBinary(state.payload));
        return new StoredPayload(bytes, serializer.Identifier, manifest);
    }

    /// <summary>A stored payload read back, as the plugin reads it (a row without a serializer id names its type).</summary>
    public static object Read(ExtendedActorSystem system, byte[] bytes, int? serializerId, string manifest, string? defaultSerializer)
    {
        if (serializerId is { } id) return system.Serialization.Deserialize(bytes, id, manifest);
        var type = Type.GetType(manifest, throwOnError: true)!;
        var serializer = system.Serialization.FindSerializerForType(type, defaultSerializer);
        return Akka.Serialization.Serialization.WithTransport(system, (serializer, bytes, type),
            static state => state.serializer.FromBinary(state.bytes, state.type));
    }
}
