using System.Text.Json;
using System.Text.Json.Serialization;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Serialization;

/// <summary>
/// <see cref="Credentialed"/> as {"credential", "manifest", "request"}: the request under its own Bank manifest, so only
/// a type Bank's serializer names can come out of it (never a type named by the payload), and never a second envelope.
/// </summary>
internal sealed class CredentialedConverter : JsonConverter<Credentialed>
{
    public override Credentialed Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var credential = root.GetProperty("credential").GetString() ?? throw new JsonException("credentialed: no credential");
        var manifest = root.GetProperty("manifest").GetString() ?? throw new JsonException("credentialed: no manifest");
        if (!BankSerializer.Manifests.TryGetValue(manifest, out var type) || type == typeof(Credentialed))
            throw new JsonException($"credentialed: '{manifest}' is not a request manifest");
        var request = root.GetProperty("request").Deserialize(type, options) as IBankMessage
                      ?? throw new JsonException($"credentialed: '{manifest}' decoded to nothing");
        return new Credentialed(credential, request);
    }

    public override void Write(Utf8JsonWriter writer, Credentialed value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("credential", value.Credential);
        writer.WriteString("manifest", BankSerializer.ManifestOf(value.Request));
        writer.WritePropertyName("request");
        JsonSerializer.Serialize(writer, value.Request, value.Request.GetType(), options);
        writer.WriteEndObject();
    }
}
