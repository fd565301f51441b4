using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Bank.Domain;

/// <summary>
/// Resources by name, as Ray counts them: <c>cpu</c>, <c>gpu</c>, <c>memory</c> (bytes) and custom ones
/// (<c>accelerator_x</c>). Amounts are non-negative decimals with at most 4 decimal places (Ray's 0.0001).
/// </summary>
public sealed partial record ResourceSet(ImmutableSortedDictionary<string, decimal> Amounts)
{
    public const string Cpu = "cpu";
    public const string Gpu = "gpu";
    public const string Memory = "memory";

    /// <summary>Ray accounts fractional resources to 1/10,000.</summary>
    public const int MaxDecimalPlaces = 4;

    public static readonly ResourceSet Empty = new(ImmutableSortedDictionary<string, decimal>.Empty.WithComparers(StringComparer.Ordinal));

    public decimal this[string name] => Amounts.GetValueOrDefault(name);

    public ResourceSet With(string name, decimal amount) => new(Amounts.SetItem(name, amount));

    public bool IsEmpty => Amounts.IsEmpty;

    /// <summary>The amounts as a plain dictionary, for messages and journals; null when there are none.</summary>
    public IReadOnlyDictionary<string, decimal>? ToAmounts() => IsEmpty ? null : new Dictionary<string, decimal>(Amounts, StringComparer.Ordinal);

    public static ResourceSet From(IReadOnlyDictionary<string, decimal>? amounts) =>
        amounts is null ? Empty : new(Empty.Amounts.SetItems(amounts));

    /// <summary>Every amount of both, added up.</summary>
    public ResourceSet Plus(ResourceSet other) =>
        new(other.Amounts.Aggregate(Amounts, (sum, a) => sum.SetItem(a.Key, sum.GetValueOrDefault(a.Key) + a.Value)));

    /// <summary>These amounts less <paramref name="other"/>'s (names only in <paramref name="other"/> go negative).</summary>
    public ResourceSet Minus(ResourceSet other) =>
        new(other.Amounts.Aggregate(Amounts, (rest, a) => rest.SetItem(a.Key, rest.GetValueOrDefault(a.Key) - a.Value)));

    /// <summary>Does every amount of <paramref name="request"/> fit in these (a name absent here is 0)?</summary>
    public bool Covers(ResourceSet request) => request.Amounts.All(r => r.Value <= this[r.Key]);

    /// <summary>These, overridden by those named in <paramref name="overrides"/>.</summary>
    public ResourceSet Merge(ResourceSet overrides) => new(Amounts.SetItems(overrides.Amounts));

    /// <summary>
    /// Parses <c>cpu=4,gpu=0,memory=8GiB,accelerator_x=2</c>. Memory takes bytes or a size with a unit (B, KiB, MiB,
    /// GiB, TiB, or KB, MB, GB, TB); the others take plain amounts. The error is one line naming the bad part.
    /// </summary>
    public static bool TryParse(string? text, out ResourceSet resources, out string error)
    {
        resources = Empty;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "no resources given; write NAME=AMOUNT[,NAME=AMOUNT...], e.g. cpu=4,gpu=1,memory=8GiB";
            return false;
        }

        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=');
            var name = equals < 0 ? part : part[..equals].Trim();
            var value = equals < 0 ? string.Empty : part[(equals + 1)..].Trim();
            if (equals < 0 || value.Length == 0 || !NameShape().IsMatch(name))
            {
                error = $"'{TextEcho.OneLine(part)}' is not NAME=AMOUNT (names: lower-case letters, digits and '_', e.g. cpu=4 or memory=500MiB)";
                return false;
            }

            if (resources.Amounts.ContainsKey(name))
            {
                error = $"'{name}' is given twice";
                return false;
            }

            decimal? amount = name == Memory ? ParseSize(value) : ParseAmount(value);
            if (amount is not { } parsed)
            {
                error = name == Memory
                    ? $"memory '{TextEcho.OneLine(value)}' is not a size: use bytes or a number with B, KiB, MiB, GiB or TiB (e.g. 500MiB, 8GiB)"
                    : $"{name} '{TextEcho.OneLine(value)}' is not an amount: use a number from 0 with at most {MaxDecimalPlaces} decimal places";
                return false;
            }

            resources = resources.With(name, parsed);
        }

        return true;
    }

    /// <summary>A non-negative amount with at most 4 decimal places, or null.</summary>
    public static decimal? ParseAmount(string text) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
        && amount >= 0m && amount <= 1_000_000_000m && decimal.Round(amount, MaxDecimalPlaces) == amount
            ? amount
            : null;

    /// <summary>Bytes, or a whole size with a unit: 500MiB, 8GiB, 2GB. Null when it is none of these.</summary>
    public static decimal? ParseSize(string text)
    {
        var match = SizeShape().Match(text);
        if (!match.Success || !decimal.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            return null;
        decimal multiplier = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1m,
            "KIB" => 1024m,
            "MIB" => 1024m * 1024,
            "GIB" => 1024m * 1024 * 1024,
            "TIB" => 1024m * 1024 * 1024 * 1024,
            "KB" => 1_000m,
            "MB" => 1_000_000m,
            "GB" => 1_000_000_000m,
            "TB" => 1_000_000_000_000m,
            _ => 0m,
        };
        var bytes = decimal.Floor(number * multiplier);
        return multiplier == 0m || bytes > 1_000_000_000_000_000m ? null : bytes;
    }

    /// <summary>The amounts as Ray prints them: <c>cpu=4, gpu=0, memory=8GiB</c>.</summary>
    public override string ToString() => string.Join(", ", Amounts.Select(a => $"{a.Key}={Describe(a.Key, a.Value)}"));

    public static string Describe(string name, decimal amount) =>
        name == Memory ? DescribeSize(amount) : amount.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>Bytes in the largest binary unit that leaves at least 1: <c>500MiB</c>, <c>7.8GiB</c>, <c>512B</c>.</summary>
    public static string DescribeSize(decimal bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        var unit = 0;
        var size = bytes;
        while (Math.Abs(size) >= 1024m && unit < units.Length - 1)
        {
            size /= 1024m;
            unit++;
        }

        return $"{size.ToString("0.#", CultureInfo.InvariantCulture)}{units[unit]}";
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,63}$")]
    private static partial Regex NameShape();

    [GeneratedRegex("^([0-9]+(?:\\.[0-9]+)?)\\s*([A-Za-z]*)$")]
    private static partial Regex SizeShape();
}
