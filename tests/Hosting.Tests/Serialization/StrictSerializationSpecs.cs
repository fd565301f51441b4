using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Bank.Hosting.Tests.Support;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// Nothing received from the network is instantiated by a type name it carries (DESIGN.md section 8): Akka's JSON
/// fallback and remote deployment are refused on a node, loading nothing a payload names.
/// </summary>
public class StrictSerializationSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    private const int Json = 1;
    private const int RemoteDeployment = 3;

    /// <summary>An assembly of the shared framework that nothing in Bank or its tests loads.</summary>
    private const string UnloadedAssembly = "Microsoft.VisualBasic.Core";

    private static readonly string SentinelName = $"{typeof(ForeignSentinel).FullName}, {typeof(ForeignSentinel).Assembly.GetName().Name}";

    [Fact]
    public void A_json_payload_naming_a_type_in_its_manifest_is_refused_without_building_it()
    {
        var refused = Assert.Throws<SerializationException>(() =>
            Sys.Serialization.Deserialize(Encoding.UTF8.GetBytes("{\"Text\":\"x\"}"), Json, SentinelName));

        Assert.Contains(SentinelName, refused.Message);
        Assert.False(ForeignTypes.SentinelBuilt, "the named type's static constructor ran");
    }

    [Fact]
    public void A_json_payload_naming_a_type_inside_the_json_is_refused_without_building_it()
    {
        var payload = Encoding.UTF8.GetBytes($"{{\"$type\":\"{SentinelName}\",\"Text\":\"x\"}}");

        Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(payload, Json, ""));
        Assert.False(ForeignTypes.SentinelBuilt, "the named type's static constructor ran");
    }

    [Fact]
    public void A_json_payload_naming_a_type_of_an_unloaded_assembly_does_not_load_it()
    {
        Assert.False(IsLoaded(UnloadedAssembly), $"{UnloadedAssembly} was loaded before the spec");

        Assert.Throws<SerializationException>(() =>
            Sys.Serialization.Deserialize("{}"u8.ToArray(), Json, $"Microsoft.VisualBasic.Collection, {UnloadedAssembly}"));

        Assert.False(IsLoaded(UnloadedAssembly), $"{UnloadedAssembly} was loaded by a payload's manifest");
    }

    [Fact]
    public void No_serializer_of_a_node_loads_an_assembly_a_manifest_names()
    {
        const string unloaded = "System.Net.Mail";
        Assert.False(IsLoaded(unloaded), $"{unloaded} was loaded before the spec");
        var loadedBy = new List<int>();

        foreach (var id in Enumerable.Range(0, 64).Append(Contracts.BankConstants.SerializerId))
        {
            try
            {
                Sys.Serialization.Deserialize([0x0a, 0x00], id, $"System.Net.Mail.MailAddress, {unloaded}");
            }
            catch (Exception)
            {
                // Refused, or no serializer under that identifier: either way, what matters is what got loaded.
            }

            if (IsLoaded(unloaded) && loadedBy.Count == 0) loadedBy.Add(id);
        }

        Assert.True(loadedBy.Count == 0, $"serializer {loadedBy.FirstOrDefault()} loaded {unloaded} from a manifest");
    }

    [Fact]
    public void A_guarded_serializer_still_reads_the_types_bound_to_it()
    {
        var watch = Sys.Serialization.Deserialize(Sys.Serialization.Serialize(new byte[] { 1, 2 }), 4, "System.Byte[], System.Private.CoreLib");

        Assert.Equal(new byte[] { 1, 2 }, watch);
        Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize([0x0a, 0x00], 22, SentinelName));
        Assert.False(ForeignTypes.SentinelBuilt, "the named type's static constructor ran");
    }

    [Fact]
    public void A_remote_deployment_is_refused()
    {
        var refused = Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize([1, 2, 3], RemoteDeployment, ""));

        Assert.Contains("remote deployment", refused.Message);
    }

    [Fact]
    public void Sending_a_type_without_a_binding_fails_at_the_sender()
    {
        Assert.Throws<SerializationException>(() =>
        {
            var message = new ForeignMessage("x");
            var serializer = Sys.Serialization.FindSerializerFor(message);
            serializer.ToBinary(message);
        });
    }

    [Fact]
    public async Task A_raw_peer_cannot_deliver_a_message_of_a_type_it_names()
    {
        // A peer with Akka's defaults, whose JSON fallback writes any type under its type name.
        using var peer = ActorSystem.Create("raw-peer", ConfigurationFactory.ParseString("""
            akka.loglevel = ERROR
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            """));
        var target = CreateTestProbe();
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(LogEvent));
        var nodeAddress = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var remoteTarget = await peer.ActorSelection(target.Ref.Path.ToStringWithAddress(nodeAddress)).ResolveOne(TimeSpan.FromSeconds(10));

        remoteTarget.Tell(new ForeignMessage("forged"));
        remoteTarget.Tell("after");

        await target.ExpectMsgAsync("after", TimeSpan.FromSeconds(10));
        // Akka.Remote drops what it cannot deserialize, keeps the association, and logs one warning with the refusal as cause.
        await logs.FishForMessageAsync<LogEvent>(log => log.Cause is SerializationException refusal && refusal.Message.Contains("refused a payload"),
            TimeSpan.FromSeconds(10));
        Sys.EventStream.Unsubscribe(logs.Ref);
    }

    private static bool IsLoaded(string assembly) =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == assembly);
}

/// <summary>Whether anything built a <see cref="ForeignSentinel"/>: only refused payloads name it.</summary>
public static class ForeignTypes
{
    public static volatile bool SentinelBuilt;
}

/// <summary>A type only a hostile payload names; its static constructor records that it was built.</summary>
public sealed class ForeignSentinel
{
    static ForeignSentinel() => ForeignTypes.SentinelBuilt = true;

    public string? Text { get; set; }
}

/// <summary>A message type no serializer binding names.</summary>
public sealed record ForeignMessage(string Text);
