using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Serialization;

namespace Bank.Benchmarks;

/// <summary>The explicit serializer on the hot path: one event into the journal, one request over the wire.</summary>
[MemoryDiagnoser]
public class SerializerBenchmarks
{
    private ActorSystem _system = null!;
    private BankSerializer _serializer = null!;
    private readonly Deposited _event = new(33m, 132m);
    private readonly AccountRequest _request = new("1234567", "0123456789abcdef0123456789abcdef", new Deposit(33m));
    private byte[] _eventBytes = [];
    private byte[] _requestBytes = [];

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _serializer = new BankSerializer((ExtendedActorSystem)_system);
        _eventBytes = _serializer.ToBinary(_event);
        _requestBytes = _serializer.ToBinary(_request);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().GetAwaiter().GetResult();

    [Benchmark(Description = "Serialize Deposited")]
    public byte[] SerializeEvent() => _serializer.ToBinary(_event);

    [Benchmark(Description = "Deserialize Deposited")]
    public object DeserializeEvent() => _serializer.FromBinary(_eventBytes, "deposited");

    [Benchmark(Description = "Serialize AccountRequest(Deposit)")]
    public byte[] SerializeRequest() => _serializer.ToBinary(_request);

    [Benchmark(Description = "Deserialize AccountRequest(Deposit)")]
    public object DeserializeRequest() => _serializer.FromBinary(_requestBytes, "account-request");
}
