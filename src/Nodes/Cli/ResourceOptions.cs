using Bank.Domain;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank open`'s Ray resource options: --num-cpus, --num-gpus, --memory SIZE and --resources NAME=N,... (custom ones
/// only; cpu, gpu and memory have their own flags, as Ray wants num_cpus rather than resources={"CPU": ...}).
/// </summary>
public sealed record ResourceOptions(decimal? NumCpus, decimal? NumGpus, decimal? Memory, IReadOnlyDictionary<string, decimal>? Custom)
{
    public static readonly ResourceOptions None = new(null, null, null, null);

    /// <summary>What the actor will hold (see <see cref="Placement.Request"/>); empty when it asks for nothing.</summary>
    public ResourceSet Request => Placement.Request(NumCpus, NumGpus, Memory, Custom);

    /// <exception cref="UsageException">A value that is not a number, a size or NAME=N, or a request Ray would refuse.</exception>
    public static ResourceOptions Parse(string? numCpus, string? numGpus, string? memoryText, string? resources)
    {
        var options = new ResourceOptions(
            Amount(numCpus, "--num-cpus"),
            Amount(numGpus, "--num-gpus"),
            memoryText is { } memory
                ? ResourceSet.ParseSize(memory.Trim()) ?? throw new UsageException(
                    $"--memory must be bytes or a size with B, KiB, MiB, GiB or TiB (e.g. 500MiB), not '{TextEcho.OneLine(memory)}'")
                : null,
            CustomOnly(resources));
        return Placement.Validate(options.Request) is { } refused ? throw new UsageException(refused) : options;
    }

    private static decimal? Amount(string? text, string option) =>
        text is null ? null
        : ResourceSet.ParseAmount(text.Trim()) ?? throw new UsageException(
            $"{option} must be a number from 0 with at most {ResourceSet.MaxDecimalPlaces} decimal places (e.g. 1 or 0.5), not '{TextEcho.OneLine(text)}'");

    private static IReadOnlyDictionary<string, decimal>? CustomOnly(string? text)
    {
        if (text is null) return null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var name = (part.IndexOf('=') is var equals and >= 0 ? part[..equals] : part).Trim().ToLowerInvariant();
            var flag = name switch
            {
                ResourceSet.Cpu => "--num-cpus",
                ResourceSet.Gpu => "--num-gpus",
                ResourceSet.Memory => "--memory",
                _ => null,
            };
            if (flag is not null)
                throw new UsageException($"--resources takes custom resources only: give {name} with {flag} (as Ray wants num_cpus, num_gpus and memory, not resources={{\"CPU\": ...}})");
        }

        return ResourceSet.TryParse(text, out var custom, out var error)
            ? custom.ToAmounts()
            : throw new UsageException($"--resources: {error}");
    }
}
