using Bank.Hosting.Contracts;

namespace Bank.Hosting.Inspection;

/// <summary>
/// `bank shards --entities` a page at a time: the entity ids of every region in ordinal order, after a cursor, cut to
/// fit one frame (see <see cref="Pages"/>). Each node answers with its own first page; the asked node merges them up to
/// the first id at which a node stopped, so no node's later ids are skipped.
/// </summary>
public static class ShardPages
{
    /// <summary>One region's shards (id and entity ids) as the region reported them.</summary>
    public sealed record Region(string Type, IReadOnlyList<(string ShardId, IReadOnlyCollection<string> EntityIds)> Shards);

    private sealed record Located(string Node, string Type, string Shard, string Id);

    /// <summary>This node's regions, with the entity ids of its page when entities are asked for.</summary>
    public static ShardsView Local(string node, IReadOnlyList<Region> regions, GetLocalShards get)
    {
        var counts = regions.Select(r => (r.Type, Shards: r.Shards.Count, Entities: r.Shards.Sum(s => s.EntityIds.Count))).ToList();
        if (!get.Entities) return new ShardsView([.. counts.Select(c => new RegionView(node, c.Type, c.Shards, c.Entities, null))]);

        var located = regions.SelectMany(r => r.Shards.SelectMany(s => s.EntityIds.Select(id => new Located(node, r.Type, s.ShardId, id))))
            .Where(e => get.After is null || string.CompareOrdinal(e.Id, get.After) > 0);
        var (page, more) = Pages.Take(Sorted(located), Pages.Limit(get.Limit), BytesOf);
        return Build(counts.Select(c => new RegionView(node, c.Type, c.Shards, c.Entities, null)), page, more);
    }

    /// <summary>Every node's page merged into one: ids up to the first a node stopped at, cut again to one page.</summary>
    public static ShardsView Merge(IReadOnlyList<ShardsView> nodes, GetShards get)
    {
        var regions = nodes.SelectMany(n => n.Regions).ToList();
        if (!get.Entities) return new ShardsView(regions);

        var stop = nodes.Where(n => n.Next is not null).Select(n => n.Next!).Order(StringComparer.Ordinal).FirstOrDefault();
        var located = regions.SelectMany(r => (r.Detail ?? []).SelectMany(s => s.EntityIds.Select(id => new Located(r.Node, r.Type, s.ShardId, id))))
            .Where(e => stop is null || string.CompareOrdinal(e.Id, stop) <= 0);
        var (page, more) = Pages.Take(Sorted(located), Pages.Limit(get.Limit), BytesOf);
        return Build(regions.Select(r => r with { Detail = null }), page, more || stop is not null);
    }

    private static IEnumerable<Located> Sorted(IEnumerable<Located> entities) =>
        entities.OrderBy(e => e.Id, StringComparer.Ordinal).ThenBy(e => e.Node, StringComparer.Ordinal).ThenBy(e => e.Type, StringComparer.Ordinal);

    // The id as a JSON string, and room for the shard it is listed under.
    private static int BytesOf(Located entity) => Pages.EstimatedBytes(entity.Id) + 8;

    /// <summary>The regions, each with the shards of the page's ids in it (shards by id, ids in order).</summary>
    private static ShardsView Build(IEnumerable<RegionView> regions, List<Located> page, bool more) =>
        new([.. regions.Select(r => r with
        {
            Detail = [.. page.Where(e => e.Node == r.Node && e.Type == r.Type)
                .GroupBy(e => e.Shard)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ShardView(g.Key, [.. g.Select(e => e.Id)]))],
        })], more && page.Count > 0 ? page[^1].Id : null);
}
