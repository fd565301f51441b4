using System.Diagnostics;
using Akka.Configuration;
using Bank.Domain;

namespace Bank.Hosting.Resources;

/// <summary>
/// What a node advertises: its CPUs, GPUs and memory (detected, or as given with --resources) and custom resources,
/// and the cluster roles that follow from them (cpu; gpu when it has one; memory when it has at least a threshold).
/// </summary>
public static class NodeResources
{
    /// <summary>This machine's resources: processor count, the GPUs nvidia-smi lists (0 without it), and memory.</summary>
    public static async Task<ResourceSet> DetectAsync() => ResourceSet.Empty
        .With(ResourceSet.Cpu, Environment.ProcessorCount)
        .With(ResourceSet.Gpu, await CountGpusAsync())
        .With(ResourceSet.Memory, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>The roles a node with these resources carries; <paramref name="config"/> holds the memory threshold.</summary>
    public static IReadOnlyList<string> RolesFor(ResourceSet resources, Config config)
    {
        var threshold = config.GetByteSize("bank.resources.memory-role-threshold") ?? 16L * 1024 * 1024 * 1024;
        var roles = new List<string>();
        if (resources[ResourceSet.Cpu] > 0) roles.Add(ResourceSet.Cpu);
        if (resources[ResourceSet.Gpu] > 0) roles.Add(ResourceSet.Gpu);
        if (resources[ResourceSet.Memory] >= threshold) roles.Add(ResourceSet.Memory);
        return roles;
    }

    /// <summary>Lines of `nvidia-smi --query-gpu=name --format=csv,noheader`; 0 when it is absent or fails.</summary>
    public static async Task<int> CountGpusAsync()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (smi is null) return 0;
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                var output = await smi.StandardOutput.ReadToEndAsync(limit.Token);
                await smi.WaitForExitAsync(limit.Token);
                return smi.ExitCode == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length : 0;
            }
            catch (OperationCanceledException)
            {
                smi.Kill(entireProcessTree: true);
                return 0;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No nvidia-smi on this machine: no GPUs.
            return 0;
        }
    }
}
