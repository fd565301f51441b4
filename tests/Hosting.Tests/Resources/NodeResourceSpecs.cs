using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Akka.Configuration;
using Bank.Domain;
using Bank.Hosting.Resources;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>Nodes carry the roles cpu, gpu (when they have one) and memory (from a threshold in hocon/) (issue 5, point 1).</summary>
public sealed class NodeResourceSpecs
{
    private static readonly Config Threshold = ConfigurationFactory.ParseString("bank.resources.memory-role-threshold = 16GiB");

    [Theory]
    [InlineData(4, 0, 8L * 1024 * 1024 * 1024, "cpu")]
    [InlineData(4, 4, 8L * 1024 * 1024 * 1024, "cpu,gpu")]
    [InlineData(4, 0, 16L * 1024 * 1024 * 1024, "cpu,memory")]
    [InlineData(0, 1, 64L * 1024 * 1024 * 1024, "gpu,memory")]
    public void Roles_follow_the_resources(int cpu, int gpu, long memory, string roles)
    {
        var resources = ResourceSet.Empty.With(ResourceSet.Cpu, cpu).With(ResourceSet.Gpu, gpu).With(ResourceSet.Memory, memory);

        Assert.Equal(roles, string.Join(",", NodeResources.RolesFor(resources, Threshold)));
    }

    [Fact]
    public async Task Detection_counts_this_machines_processors_and_memory_and_the_gpus_nvidia_smi_lists()
    {
        var detected = await NodeResources.DetectAsync();

        Assert.Equal(Environment.ProcessorCount, detected[ResourceSet.Cpu]);
        Assert.InRange(detected[ResourceSet.Memory], 1, PhysicalMemory() ?? long.MaxValue);
        Assert.Equal(await GpusListedByNvidiaSmiAsync(), detected[ResourceSet.Gpu]);
    }

    /// <summary>With a stand-in nvidia-smi first on PATH: a GPU per line it prints, none when it fails.</summary>
    [SkippableTheory]
    [InlineData("printf 'NVIDIA H200\\nNVIDIA H200\\nNVIDIA H200\\n'", 3)]
    [InlineData("printf 'Tesla T4\\n'", 1)]
    [InlineData("echo 'NVIDIA-SMI has failed' >&2; exit 9", 0)]
    public async Task Gpus_are_the_lines_nvidia_smi_prints_and_none_when_it_fails(string script, int gpus)
    {
        if (OperatingSystem.IsWindows()) throw new SkipException("the stand-in nvidia-smi is a shell script");
        var folder = Path.Combine(Path.GetTempPath(), "bank-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var smi = Path.Combine(folder, "nvidia-smi");
        await File.WriteAllTextAsync(smi, $"#!/bin/sh\n{script}\n");
        File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Environment.GetEnvironmentVariable("PATH");
        // No other spec of this test process runs nvidia-smi: the specs of this class run one at a time.
        Environment.SetEnvironmentVariable("PATH", folder + Path.PathSeparator + path);
        try
        {
            Assert.Equal(gpus, await NodeResources.CountGpusAsync());
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The GPUs `nvidia-smi -L` lists ("GPU 0: ..." lines; MIG slices are indented under them), or 0 when it is not
    /// installed: another query than the one the node makes, so that the two can disagree.
    /// </summary>
    private static async Task<int> GpusListedByNvidiaSmiAsync()
    {
        try
        {
            using var smi = Process.Start(new ProcessStartInfo("nvidia-smi", "-L") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var lines = (await smi.StandardOutput.ReadToEndAsync()).Split('\n');
            await smi.WaitForExitAsync();
            return smi.ExitCode == 0 ? lines.Count(l => l.StartsWith("GPU ", StringComparison.Ordinal)) : 0;
        }
        catch (Win32Exception)
        {
            return 0;
        }
    }

    /// <summary>MemTotal of /proc/meminfo in bytes, where there is one: what the node advertises cannot exceed it.</summary>
    private static long? PhysicalMemory()
    {
        if (!File.Exists("/proc/meminfo")) return null;
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
