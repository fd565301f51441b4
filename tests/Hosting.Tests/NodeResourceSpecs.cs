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
    public async Task Detection_counts_this_machines_processors_and_memory_and_no_gpu_without_nvidia_smi()
    {
        var detected = await NodeResources.DetectAsync();

        Assert.Equal(Environment.ProcessorCount, detected[ResourceSet.Cpu]);
        Assert.True(detected[ResourceSet.Memory] > 0);
        Assert.Equal(await NodeResources.CountGpusAsync(), detected[ResourceSet.Gpu]);
    }
}
