using System.Text.Json;

namespace Bank.Hosting.Contracts;

/// <summary>
/// How big one page of a listing (`bank list`, `bank history`, `bank shards --entities`) may be, so that every reply
/// crosses ClusterClient and remoting in one frame: at most <see cref="MaxEntries"/> entries and about
/// <see cref="MaxBytes"/> bytes, half of Akka's default maximum frame (128,000 bytes), leaving room for the envelope.
/// </summary>
public static class Pages
{
    public const int MaxEntries = 1000;

    public const int MaxBytes = 64_000;

    /// <summary>The asked limit, or a full page when none (0) or too many were asked.</summary>
    public static int Limit(int asked) => asked is > 0 and <= MaxEntries ? asked : MaxEntries;

    /// <summary>
    /// An entry's size on the wire, over-estimated: its JSON with default options (PascalCase names are no shorter than
    /// snake_case ones, and the wire escapes the same characters) plus room for a manifest and separators.
    /// </summary>
    public static int EstimatedBytes(object entry) => JsonSerializer.SerializeToUtf8Bytes(entry, entry.GetType()).Length + 32;

    /// <summary>
    /// The first entries of <paramref name="sorted"/> that fit a page of <paramref name="limit"/> entries and
    /// <see cref="MaxBytes"/>; <c>More</c> when some were left. At least one entry is taken when there is one.
    /// </summary>
    public static (List<T> Page, bool More) Take<T>(IEnumerable<T> sorted, int limit) where T : notnull =>
        Take(sorted, limit, entry => EstimatedBytes(entry));

    /// <inheritdoc cref="Take{T}(IEnumerable{T}, int)"/>
    /// <param name="bytesOf">An over-estimate of one entry's size on the wire.</param>
    public static (List<T> Page, bool More) Take<T>(IEnumerable<T> sorted, int limit, Func<T, int> bytesOf)
    {
        var page = new List<T>();
        var bytes = 0;
        foreach (var entry in sorted)
        {
            var size = bytesOf(entry);
            if (page.Count >= limit || (page.Count > 0 && bytes + size > MaxBytes)) return (page, true);
            page.Add(entry);
            bytes += size;
        }

        return (page, false);
    }

    /// <summary>The pages of `bank shards --entities` as one view: each region once, with the entity ids of all pages by shard.</summary>
    public static ShardsView Join(IReadOnlyList<ShardsView> pages) =>
        new([.. pages.SelectMany(p => p.Regions)
            .GroupBy(r => (r.Node, r.Type))
            .Select(region => region.Last() with
            {
                Detail = [.. region.SelectMany(r => r.Detail ?? [])
                    .GroupBy(s => s.ShardId)
                    .OrderBy(s => s.Key, StringComparer.Ordinal)
                    .Select(s => new ShardView(s.Key, [.. s.SelectMany(v => v.EntityIds)]))],
            })]);
}
