using Akka.Actor;
using Akka.Cluster;
using Bank.Domain;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;
using Bank.Hosting.Inspection;
using Bank.Hosting.Metrics;

namespace Bank.Hosting.Dashboard;

/// <summary>
/// What <c>/api/state</c> answers, read as `bank list` reads it: the registry's actors, their balances from the state
/// store and the nodes their entities run on from the shard regions. No account actor is asked anything, so a page left
/// open (it polls every second) keeps no passivated account awake.
/// </summary>
internal static class DashboardState
{
    public static async Task<object> ReadAsync(RunningNode node, OperationsCounter operations, MetricsReader metrics, TimeSpan timeout, CancellationToken ct)
    {
        await using var session = new BankSession(node.Gateway);
        var view = session.ClusterViewAsync(ct);
        var shards = session.ShardsAsync(BankConstants.AccountShardType, entities: true, ct);
        var usage = session.ClusterStatusAsync(ct);
        // Every row of the store, read on this node from the database: no account is woken for it.
        var stored = session.StoredAccountsAsync(cancellationToken: ct);
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
        // A plain account runs where sharding keeps its entity (which moves on a failover); one with resources where it was placed.
        var runsOn = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var region in regions)
            foreach (var key in region.Detail?.SelectMany(s => s.EntityIds) ?? [])
                runsOn[key] = region.Node;
        var store = await stored;
        // A row of version 0 holds only the name the registry gave it; a dead actor shows no balance (its key's row may be
        // a later incarnation's).
        var balances = store.Accounts.Where(r => r.Version > 0).ToDictionary(r => r.Key, r => r.Balance, StringComparer.Ordinal);

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
                        $"{r.Key} {ResourceSet.Describe(r.Key, usedHere.Used.GetValueOrDefault(r.Key))}/{ResourceSet.Describe(r.Key, r.Value)}"))
                    : infos[i]?.Resources is { } advertised
                        ? string.Join(", ", advertised.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={ResourceSet.Describe(r.Key, r.Value)}"))
                        : null,
                Shards = regions.FirstOrDefault(r => r.Node == m.Address)?.Shards ?? 0,
                Actors = regions.FirstOrDefault(r => r.Node == m.Address)?.Entities ?? 0,
            }),
            Actors = actors.Select(a => new
            {
                a.Name, a.Key, a.Id, State = a.State.Display(), a.Restarts,
                Node = a.State == ActorState.Alive && a.Resources is null && runsOn.TryGetValue(a.Key, out var entityNode) ? entityNode : a.Node,
                a.Detached,
                Balance = a.State != ActorState.Dead && balances.TryGetValue(a.Key, out var balance) ? balance : (decimal?)null,
                a.DeathCause,
                Resources = a.Resources is null ? "-" : Domain.Placement.Describe(a.Held),
            }),
            // How many journal events the store had yet to take in when read: the balances are that far behind.
            StoreLag = store.Lag,
            Operations = operations.Samples.Select(s => new { At = s.At.ToString("O"), PerSecond = s.Count }),
            // This node's figures of the meter Bank, as its /metrics endpoint gives them to Prometheus.
            Metrics = metrics.Read(node.System),
        };
    }
}
