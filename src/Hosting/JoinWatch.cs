using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Bank.Hosting.Client;

namespace Bank.Hosting;

/// <summary>
/// Why a worker cannot join its seed, when TLS is the reason (a plain node at a TLS seed, a TLS node at a plain one, a
/// certificate the seed refuses): told in one line within seconds rather than as Akka's retries until the join timeout.
/// It probes (<see cref="TlsProbe"/>) only after a failure: a seed's association error, or no association with it after
/// <see cref="Quiet"/>; a node that joins never probes.
/// </summary>
public static partial class JoinWatch
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(3);

    /// <summary>The actor systems that have joined: until then, Akka's join retries are noise (<see cref="IsJoinNoise"/>).</summary>
    private static readonly ConditionalWeakTable<ActorSystem, object> Joined = [];

    /// <summary>
    /// Watches <paramref name="system"/> join <paramref name="seeds"/> (HOST:PORT); the task completes with the one-line
    /// reason when TLS keeps it out, and never otherwise. The watch stops once the node is Up.
    /// </summary>
    public static Task<string> Start(ActorSystem system, IReadOnlyList<string> seeds, X509Certificate2? certificate)
    {
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (seeds.Count == 0) return refused.Task;
        var endpoints = seeds.Select(BankClient.ParseContact).ToList();
        var watch = system.ActorOf(Props.Create(() => new Watcher(endpoints, certificate, refused)), "join-watch");
        system.EventStream.Subscribe(watch, typeof(AssociatedEvent));
        system.EventStream.Subscribe(watch, typeof(AssociationErrorEvent));
        Cluster.Get(system).RegisterOnMemberUp(() => watch.Tell(PoisonPill.Instance));
        return refused.Task;
    }

    /// <summary>From now on Akka's association warnings of <paramref name="system"/> are news, not join noise.</summary>
    public static void MarkJoined(ActorSystem system) => Joined.TryAdd(system, true);

    /// <summary>
    /// Akka's warnings while a node joins a seed that does not let it in (gated addresses, join retries, association
    /// timeouts): the node says why in one line instead (<see cref="RunningNode"/>).
    /// </summary>
    public static bool IsJoinNoise(ActorSystem system, string message) => !Joined.TryGetValue(system, out _) && JoinRetries().IsMatch(message);

    [GeneratedRegex(@"Tried to associate with unreachable remote address|Couldn't join seed nodes|No response from remote for outbound association|TLS handshake failed on outbound|TLS handshake failed \(Client side\)|Unable to REMOVE channel")]
    private static partial Regex JoinRetries();

    private static (string, int) EndpointOf(Address address) => (address.Host ?? "", address.Port ?? 0);

    /// <summary>Hears the node's associations with its seeds and asks <see cref="TlsProbe"/> after a failure.</summary>
    private sealed class Watcher : ReceiveActor, IWithTimers
    {
        private readonly HashSet<(string, int)> _associated = [];
        private readonly HashSet<(string, int)> _probed = [];

        public ITimerScheduler Timers { get; set; } = null!;

        public Watcher(IReadOnlyList<(string Host, int Port)> seeds, X509Certificate2? certificate, TaskCompletionSource<string> refused)
        {
            Receive<AssociatedEvent>(associated => _associated.Add(EndpointOf(associated.RemoteAddress)));
            Receive<AssociationErrorEvent>(failed => Probe(EndpointOf(failed.RemoteAddress)));
            Receive<QuietTick>(_ =>
            {
                // A seed that gossiped with this node is reachable, whether or not its AssociatedEvent came before the watch.
                var members = Cluster.Get(Context.System).State.Members.Select(m => EndpointOf(m.Address)).ToHashSet();
                foreach (var seed in seeds.Where(s => !_associated.Contains(s) && !members.Contains(s))) Probe(seed);
            });
            Receive<Probed>(probed =>
            {
                if (probed.Why is not null) refused.TrySetResult(probed.Why);
            });
            return;

            void Probe((string Host, int Port) seed)
            {
                if (!seeds.Contains(seed) || !_probed.Add(seed)) return;
                TlsProbe.DiagnoseSeedAsync(seed.Host, seed.Port, certificate).PipeTo(Self, success: why => new Probed(why));
            }
        }

        protected override void PreStart() => Timers.StartSingleTimer(nameof(QuietTick), QuietTick.Instance, Quiet);

        private sealed record Probed(string? Why);

        private sealed class QuietTick
        {
            public static readonly QuietTick Instance = new();
        }
    }
}
