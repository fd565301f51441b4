using System.Globalization;
using System.Text.RegularExpressions;

namespace Bank.Domain;

/// <summary>A node as placement sees it: what it advertises and what the actors placed on it hold.</summary>
public sealed record NodeCapacity(string Node, ResourceSet Total, ResourceSet Used)
{
    public ResourceSet Free => Total.Minus(Used);
}

/// <summary>
/// Ray's resource options of an actor (<c>num_cpus</c>, <c>num_gpus</c>, <c>memory</c>, <c>resources</c>) and where an
/// actor that asks for them may run. As in Ray: an actor that asks for nothing needs 1 CPU to be placed and holds none
/// while it runs; one that asks for anything holds all of it while it lives, with 1 CPU unless it says num_cpus.
/// </summary>
public static partial class Placement
{
    /// <summary>The most of one resource an actor may ask for.</summary>
    public const decimal MaxAmount = 1_000_000_000m;

    /// <summary>The most memory (bytes) an actor may ask for: 1 PiB.</summary>
    public const decimal MaxMemory = 1024m * 1024 * 1024 * 1024 * 1024;

    /// <summary>
    /// What an actor with these options holds while it lives; empty when it asks for nothing (then it needs only a node
    /// with the cpu role). Custom resources come by name, as Ray's <c>resources={"accelerator_x": 1}</c>.
    /// </summary>
    public static ResourceSet Request(decimal? numCpus = null, decimal? numGpus = null, decimal? memory = null,
        IReadOnlyDictionary<string, decimal>? custom = null)
    {
        var request = ResourceSet.From(custom);
        if (numGpus is { } gpus) request = request.With(ResourceSet.Gpu, gpus);
        if (memory is { } bytes) request = request.With(ResourceSet.Memory, bytes);
        if (numCpus is { } cpus) request = request.With(ResourceSet.Cpu, cpus);
        else if (!request.IsEmpty) request = request.With(ResourceSet.Cpu, 1m);
        return request;
    }

    /// <summary>Why an actor cannot ask for this, in one line, or null when it can.</summary>
    public static string? Validate(ResourceSet request)
    {
        foreach (var (name, amount) in request.Amounts)
        {
            if (!NameShape().IsMatch(name))
                return $"resource name '{TextEcho.OneLine(name)}' is not valid: use lower-case letters, digits and '_' (e.g. accelerator_x)";
            if (name == ResourceSet.Memory)
            {
                if (amount < 0 || amount != decimal.Floor(amount) || amount > MaxMemory)
                    return $"memory must be a whole number of bytes from 0 to 1PiB, not {amount.ToString(CultureInfo.InvariantCulture)}";
                continue;
            }

            var option = Option(name);
            if (amount < 0 || amount > MaxAmount)
                return $"{option} must be from 0 to {MaxAmount:0}, not {amount.ToString(CultureInfo.InvariantCulture)}";
            if (decimal.Round(amount, ResourceSet.MaxDecimalPlaces) != amount)
                return $"{option} takes at most {ResourceSet.MaxDecimalPlaces} decimal places (Ray's 0.0001), not {amount.ToString(CultureInfo.InvariantCulture)}";
            if (amount > 1 && amount != decimal.Floor(amount))
                return $"{option} above 1 must be a whole number (as in Ray), not {amount.ToString(CultureInfo.InvariantCulture)}";
        }

        return null;
    }

    /// <summary>
    /// The node to place a request on, or null when none has it free. Among those that fit, nodes without GPUs come
    /// first for an actor that asks for none (as Ray keeps GPU nodes for GPU work), then the node the request would fill
    /// least, then the lowest address: the choice is the same on every run.
    /// </summary>
    public static string? Choose(IEnumerable<NodeCapacity> nodes, ResourceSet request) =>
        nodes
            .Where(n => n.Free.Covers(request))
            .OrderBy(n => request[ResourceSet.Gpu] == 0 && n.Total[ResourceSet.Gpu] > 0 ? 1 : 0)
            .ThenBy(n => FilledAfter(n, request))
            .ThenBy(n => n.Node, StringComparer.Ordinal)
            .Select(n => n.Node)
            .FirstOrDefault();

    /// <summary>
    /// Why no node takes the request: the request, and for each resource it names the most any node has free, and where.
    /// </summary>
    public static string NoNodeFits(string actor, ResourceSet request, IReadOnlyCollection<NodeCapacity> nodes, TimeSpan waited)
    {
        var largest = request.Amounts.Keys.Select(name =>
        {
            var best = nodes.OrderByDescending(n => n.Free[name]).ThenBy(n => n.Node, StringComparer.Ordinal).FirstOrDefault();
            return best is null
                ? $"{name}=0"
                : $"{name}={ResourceSet.Describe(name, Math.Max(0, best.Free[name]))} on {best.Node}";
        });
        var free = nodes.Count == 0 ? "there is no node with resources in the cluster" : $"the largest free capacity is {string.Join(", ", largest)}";
        return $"no node has the resources for actor '{TextEcho.OneLine(actor)}' ({Describe(request)}) after {waited.TotalSeconds:0.#} s: {free}";
    }

    /// <summary>The request as Ray's options: <c>num_cpus=1, num_gpus=4, memory=500MiB, accelerator_x=1</c>.</summary>
    public static string Describe(ResourceSet request) =>
        request.IsEmpty
            ? "no resources (num_cpus=1 to be placed, 0 while running)"
            : string.Join(", ", request.Amounts
                .OrderBy(a => a.Key switch { ResourceSet.Cpu => 0, ResourceSet.Gpu => 1, ResourceSet.Memory => 2, _ => 3 })
                .ThenBy(a => a.Key, StringComparer.Ordinal)
                .Select(a => $"{Option(a.Key)}={ResourceSet.Describe(a.Key, a.Value)}"));

    private static string Option(string name) => name switch
    {
        ResourceSet.Cpu => "num_cpus",
        ResourceSet.Gpu => "num_gpus",
        _ => name,
    };

    private static decimal FilledAfter(NodeCapacity node, ResourceSet request) =>
        request.Amounts.Where(r => node.Total[r.Key] > 0)
            .Select(r => (node.Used[r.Key] + r.Value) / node.Total[r.Key])
            .DefaultIfEmpty(0m)
            .Max();

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,63}$")]
    private static partial Regex NameShape();
}
