using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bank.Hosting.Dashboard;

/// <summary>Where the dashboard listens: 127.0.0.1:8265 unless told otherwise, as Ray's does.</summary>
public sealed record DashboardOptions(string Host = "127.0.0.1", int Port = DashboardOptions.DefaultPort)
{
    public const int DefaultPort = 8265;
}

/// <summary>
/// The web dashboard of a head node, on ASP.NET Core's own Kestrel: the nodes with their roles, machines and shards,
/// the actors with state, restarts, node, detached and balance (the page polls every second), an actor's event history,
/// and a chart of persisted account operations per second. Every asset is served by the node itself.
/// </summary>
public sealed class BankDashboard : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly WebApplication _app;
    private readonly OperationsCounter _operations;

    private BankDashboard(WebApplication app, OperationsCounter operations, string url)
    {
        _app = app;
        _operations = operations;
        Url = url;
    }

    /// <summary>The page's address, e.g. http://127.0.0.1:8265.</summary>
    public string Url { get; }

    /// <summary>Starts Kestrel on the node's behalf; a port that is taken fails here, before anything is served.</summary>
    public static async Task<BankDashboard> StartAsync(RunningNode node, DashboardOptions options, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(
            IPAddress.TryParse(options.Host, out var ip) ? ip : IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var operations = new OperationsCounter(node.System);
        var timeout = TimeSpan.FromSeconds(5);

        app.MapGet("/", () => Results.Content(Page(), "text/html; charset=utf-8"));
        app.MapGet("/actor/{name}", (string name) => Results.Content(Page(), "text/html; charset=utf-8"));
        app.MapGet("/api/state", async (CancellationToken ct) =>
            Results.Json(await StateAsync(node, operations, timeout, ct), Json));
        app.MapGet("/api/actors/{name}/history", async (string name, CancellationToken ct) =>
        {
            await using var session = new BankSession(node.Gateway);
            try
            {
                var history = await session.HistoryAsync(name, ct);
                return Results.Json(new
                {
                    history.Name,
                    history.Key,
                    Events = history.Events.Select(e => new { e.Seq, e.Type, e.Amount, e.Balance, At = e.At.ToString("O"), e.RequestId }),
                }, Json);
            }
            catch (BankException e)
            {
                return Results.Json(new { Error = new { Kind = e.Kind.ToString(), e.Message } }, Json,
                    statusCode: e.Kind == ErrorKind.ActorNotFound ? 404 : 503);
            }
        });

        await app.StartAsync(cancellationToken);
        operations.Start();
        return new BankDashboard(app, operations, $"http://{options.Host}:{options.Port}");
    }

    private static async Task<object> StateAsync(RunningNode node, OperationsCounter operations, TimeSpan timeout, CancellationToken ct)
    {
        await using var session = new BankSession(node.Gateway);
        var view = session.ClusterViewAsync(ct);
        var shards = session.ShardsAsync(BankConstants.AccountShardType, cancellationToken: ct);
        var usage = session.ClusterStatusAsync(ct);
        var actors = await session.ListAsync(ct);
        var members = (await view).Members;
        var infos = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                return await node.System.ActorSelection(Inspector.InspectorPath(Address.Parse(m.Address)))
                    .Ask<NodeInfo>(GetNodeInfo.Instance, timeout, ct);
            }
            catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException)
            {
                return null;
            }
        }));
        var regions = (await shards).Regions;
        var held = (await usage).Nodes.ToDictionary(n => n.Address, StringComparer.Ordinal);

        // Balances, restarts and nodes asked of each live account on every poll, so the page wakes passivated accounts;
        // `bank list` reads balances from the state store instead and wakes none.
        var status = await Task.WhenAll(actors.Select(async a =>
        {
            if (a.State != ActorState.Alive) return null;
            try
            {
                return await session.StatusAsync(a, ct);
            }
            catch (BankException)
            {
                return null;
            }
        }));

        return new
        {
            Node = Cluster.Get(node.System).SelfAddress.ToString(),
            Nodes = members.Select((m, i) => new
            {
                m.Address, m.Status, m.Roles, m.Reachable, m.Leader, m.Oldest, UpSince = m.UpSince?.ToString("O"),
                Cpus = infos[i]?.Cpus, MemoryBytes = infos[i]?.MemoryBytes,
                // As `ray status` shows usage: what the placed actors hold of what the node advertises.
                Resources = held.TryGetValue(m.Address, out var usedHere)
                    ? string.Join(", ", usedHere.Total.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r =>
                        $"{r.Key} {Domain.ResourceSet.Describe(r.Key, usedHere.Used.GetValueOrDefault(r.Key))}/{Domain.ResourceSet.Describe(r.Key, r.Value)}"))
                    : infos[i]?.Resources is { } advertised
                        ? string.Join(", ", advertised.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={Domain.ResourceSet.Describe(r.Key, r.Value)}"))
                        : null,
                Shards = regions.FirstOrDefault(r => r.Node == m.Address)?.Shards ?? 0,
                Actors = regions.FirstOrDefault(r => r.Node == m.Address)?.Entities ?? 0,
            }),
            Actors = actors.Select((a, i) => new
            {
                a.Name, a.Key, a.Id, State = a.State.Display(), Restarts = status[i]?.Restarts ?? a.Restarts,
                Node = status[i]?.Node ?? a.Node, a.Detached, Balance = status[i]?.Balance, a.DeathCause,
                Resources = a.Resources is null ? "-" : Domain.Placement.Describe(a.Held),
            }),
            Operations = operations.Samples.Select(s => new { At = s.At.ToString("O"), PerSecond = s.Count }),
        };
    }

    private static string Page()
    {
        using var stream = typeof(BankDashboard).Assembly.GetManifestResourceStream("Bank.Hosting.Dashboard.dashboard.html")
                           ?? throw new InvalidOperationException("the dashboard page is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await _operations.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// Persisted account operations per second, counted once a second from the journal's global order (all nodes write
/// to it), over the last two minutes.
/// </summary>
internal sealed class OperationsCounter(ActorSystem system) : IAsyncDisposable
{
    private const int Kept = 120;
    private readonly CancellationTokenSource _stop = new();
    private readonly Queue<(DateTimeOffset At, int Count)> _samples = new();
    private Task _loop = Task.CompletedTask;

    public IReadOnlyList<(DateTimeOffset At, int Count)> Samples
    {
        get
        {
            lock (_samples) return [.. _samples];
        }
    }

    public void Start() => _loop = RunAsync(_stop.Token);

    private async Task RunAsync(CancellationToken ct)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        using var materializer = system.Materializer();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            // The events written before the dashboard started are not operations of its chart.
            var (offset, _) = await CountSinceAsync(journal, materializer, 0, ct);
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    var (next, count) = await CountSinceAsync(journal, materializer, offset, ct);
                    offset = next;
                    lock (_samples)
                    {
                        _samples.Enqueue((DateTimeOffset.UtcNow, count));
                        while (_samples.Count > Kept) _samples.Dequeue();
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A journal that does not answer for a second leaves a gap in the chart, nothing worse.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The dashboard is stopping.
        }
    }

    private static async Task<(long Offset, int Count)> CountSinceAsync(SqlReadJournal journal, IMaterializer materializer, long offset, CancellationToken ct)
    {
        var (last, count) = await journal.CurrentAllEvents(Offset.Sequence(offset))
            .RunAggregate((Offset: offset, Count: 0), (acc, e) => (
                e.Offset is Sequence s ? Math.Max(acc.Offset, s.Value) : acc.Offset,
                acc.Count + (e.PersistenceId.StartsWith(BankConstants.AccountPersistenceIdPrefix, StringComparison.Ordinal) ? 1 : 0)), materializer)
            .WaitAsync(ct);
        return (last, count);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
