using System.CommandLine;
using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting;
using Bank.Hosting.Client;
using Bank.Hosting.Contracts;

namespace Bank.Nodes.Cli;

/// <summary>`bank list` and `bank history`, read a page at a time so that every reply fits one frame (see <see cref="Pages"/>).</summary>
public sealed partial class ClientCommands
{
    private async Task<int> ListAsync(ParseResult parsed)
    {
        var limit = PageOptions.LimitOf(parsed);
        if (parsed.GetValue(PageOptions.AfterId) is not null && parsed.GetValue(PageOptions.AfterName) is null)
            throw new UsageException("--after-id goes with --after NAME");
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        var running = RunningAccountsAsync(session);
        var (after, afterId) = (parsed.GetValue(PageOptions.AfterName), parsed.GetValue(PageOptions.AfterId));
        var actors = new List<ActorInfo>();
        var rows = new Dictionary<string, StoredAccount>(StringComparer.Ordinal);
        long lag = 0;
        ActorList page;
        do
        {
            page = await session.ListPageAsync(after, PageOptions.NextAsk(limit, actors.Count), afterId);
            actors.AddRange(page.Actors);
            (after, afterId) = (page.Next, page.NextId);
            // Nothing here wakes a passivated account. Balances come from the state store, a query per page (its rows are
            // smaller than the page's actors, so the answer fits a frame too); a dead actor shows none (its key's row may be
            // a later incarnation's). The keys go as an array: the request crosses ClusterClient in JSON that names their
            // type, and a list made by a collection expression is of a type that cannot be read back.
            var stored = await session.StoredAccountsAsync(page.Actors.Where(a => a.State != ActorState.Dead).Select(a => a.Key).Distinct().ToArray());
            foreach (var (key, row) in RowsWithBalance(stored)) rows[key] = row;
            lag = stored.Lag;
        } while (page.Next is not null && (limit is null || actors.Count < limit));

        var runsOn = await running;
        // A plain account runs where sharding keeps its entity, which moves on a failover; one with resources runs
        // where it was placed.
        actors = [.. actors.Select(a => a.State == ActorState.Alive && a.Resources is null && runsOn.TryGetValue(a.Key, out var node) ? a with { Node = node } : a)];
        decimal?[] balance = [.. actors.Select(a => a.State != ActorState.Dead && rows.TryGetValue(a.Key, out var row) ? row.Balance : (decimal?)null)];

        if (output.Json)
        {
            var array = new JsonArray();
            for (var i = 0; i < actors.Count; i++)
            {
                var item = Output.ActorJson(actors[i]);
                item["balance"] = balance[i];
                array.Add(item);
            }

            var json = new JsonObject { ["actors"] = array, ["store_lag"] = lag };
            if (page.Next is not null)
            {
                json["next"] = page.Next;
                if (page.NextId is not null) json["next_id"] = page.NextId;
            }

            output.PrintJson(json);
            return ExitCodes.Ok;
        }

        output.Table(
            ["NAME", "STATE", "NODE", "RESTARTS", "RESOURCES", "DETACHED", "BALANCE", "DEATH CAUSE", "ID"],
            [.. actors.Select((a, i) => (IReadOnlyList<string>)
            [
                a.Name, Output.StateName(a.State), a.Node.Length == 0 ? "-" : a.Node, a.Restarts.ToString(), Output.ResourcesCell(a.Held),
                a.Detached ? "yes" : "no",
                balance[i] is { } b ? Money.Format(b) : "-", a.DeathCause ?? "-", a.Id,
            ])]);
        if (lag > 0)
            output.Line($"store lag: {lag} event(s)");
        if (page.Next is not null)
            output.Line(PageOptions.MoreLine(page.Next, page.NextId));
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The node each running account entity is on, by key, from the shard regions (which start no entity); empty if
    /// they do not answer, and the registry's nodes are shown instead.
    /// </summary>
    private static async Task<Dictionary<string, string>> RunningAccountsAsync(BankSession session)
    {
        var running = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var region in (await session.ShardsAsync(BankConstants.AccountShardType, entities: true)).Regions)
                foreach (var key in region.Detail?.SelectMany(s => s.EntityIds) ?? [])
                    running[key] = region.Node;
        }
        catch (BankException)
        {
            running.Clear();
        }

        return running;
    }

    private async Task<int> HistoryAsync(ParseResult parsed)
    {
        var limit = PageOptions.LimitOf(parsed);
        var after = PageOptions.SeqOf(parsed);
        await using var client = await TlsOptions.ConnectAsync(parsed);
        await using var session = client.OpenSession();
        var events = new List<HistoryEntry>();
        History history;
        do
        {
            history = await session.HistoryPageAsync(parsed.GetRequiredValue(Name), after, PageOptions.NextAsk(limit, events.Count));
            events.AddRange(history.Events);
            after = history.Next ?? after;
        } while (history.Next is not null && (limit is null || events.Count < limit));

        history = history with { Events = events };
        if (output.Json)
        {
            var json = new JsonArray();
            foreach (var e in history.Events)
                json.Add(new JsonObject
                {
                    ["seq"] = e.Seq, ["type"] = e.Type, ["amount"] = e.Amount, ["balance"] = e.Balance, ["at"] = e.At.ToString("O"),
                });
            var result = new JsonObject { ["name"] = history.Name, ["key"] = history.Key, ["events"] = json };
            if (history.Next is { } more) result["next"] = more;
            output.PrintJson(result);
            return ExitCodes.Ok;
        }

        output.Table(["SEQ", "EVENT", "AMOUNT", "BALANCE", "AT"],
            [.. history.Events.Select(e => (IReadOnlyList<string>)
            [
                e.Seq.ToString(), e.Type, e.Amount is { } a ? Money.Format(a) : "-", Money.Format(e.Balance), e.At.ToString("u"),
            ])]);
        if (history.Next is { } next)
            output.Line(PageOptions.MoreLine(next.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return ExitCodes.Ok;
    }
}
