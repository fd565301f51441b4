using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Bank.Hosting.Contracts;
using Bank.Hosting.Serialization;

namespace Bank.Hosting.Tests.Support;

/// <summary>
/// The Bank messages a <see cref="Client.BankClient"/> sends to the cluster and receives from it, counted where they
/// cross the wire: every Bank message between a client and the node's gateway (through the receptionist, and back to the
/// client's actors) is written by the client's Bank serializer on the way out and read by it on the way in, and nothing
/// else is. Connect with <see cref="Settings"/> and the client's serializer counts into this.
/// </summary>
public sealed class ClientTraffic
{
    private static readonly ConcurrentDictionary<string, ClientTraffic> ById = new();

    private readonly ConcurrentQueue<object> _sent = new();
    private readonly ConcurrentQueue<object> _received = new();
    private readonly string _id = Guid.NewGuid().ToString("N");

    public ClientTraffic() => ById[_id] = this;

    /// <summary>The client's settings: its Bank serializer counts here; <paramref name="heartbeatInterval"/> paces its heartbeats.</summary>
    public Config Settings(TimeSpan heartbeatInterval) => ConfigurationFactory.ParseString($$"""
        akka.actor.serializers.{{BankConstants.SerializerName}} = "{{typeof(CountingBankSerializer).FullName}}, {{typeof(CountingBankSerializer).Assembly.GetName().Name}}"
        bank-test.client-traffic = "{{_id}}"
        bank.client.heartbeat-interval = {{(int)heartbeatInterval.TotalMilliseconds}}ms
        """);

    /// <summary>The Bank messages the client sent to the cluster, oldest first.</summary>
    public IReadOnlyList<object> Sent => [.. _sent];

    /// <summary>The Bank messages the client received from the cluster, oldest first.</summary>
    public IReadOnlyList<object> Received => [.. _received];

    public void Clear()
    {
        _sent.Clear();
        _received.Clear();
    }

    private static ClientTraffic Of(ActorSystem system) => ById[system.Settings.Config.GetString("bank-test.client-traffic")];

    /// <summary>The client's Bank serializer, counting: same identifier and bytes as <see cref="BankSerializer"/>.</summary>
    public sealed class CountingBankSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
    {
        private readonly BankSerializer _bank = new(system);
        private readonly ClientTraffic _traffic = Of(system);

        public override int Identifier => _bank.Identifier;

        public override string Manifest(object o) => _bank.Manifest(o);

        public override byte[] ToBinary(object obj)
        {
            _traffic._sent.Enqueue(obj);
            return _bank.ToBinary(obj);
        }

        public override object FromBinary(byte[] bytes, string manifest)
        {
            var message = _bank.FromBinary(bytes, manifest);
            _traffic._received.Enqueue(message);
            return message;
        }
    }
}
