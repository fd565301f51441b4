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
}
