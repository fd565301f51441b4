using Bank.Domain;
using Xunit;

namespace Bank.Domain.Tests;

/// <summary>`--resources cpu=4,gpu=0,memory=8GiB,accelerator_x=2`, as Ray's resources read (issue 5, point 1).</summary>
public sealed class ResourceSetSpecs
{
    [Fact]
    public void Cpu_gpu_memory_and_custom_resources_are_read_with_memory_in_bytes()
    {
        Assert.True(ResourceSet.TryParse("cpu=4, gpu=0, memory=8GiB, accelerator_x=2", out var resources, out _));

        Assert.Equal((4m, 0m, 8m * 1024 * 1024 * 1024, 2m),
            (resources[ResourceSet.Cpu], resources[ResourceSet.Gpu], resources[ResourceSet.Memory], resources["accelerator_x"]));
    }

    [Theory]
    [InlineData("500MiB", 524_288_000)]
    [InlineData("8GiB", 8_589_934_592)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData("1.5KiB", 1_536)]
    [InlineData("123456", 123_456)]
    [InlineData("10 MiB", 10_485_760)]
    public void Memory_takes_bytes_or_a_size_with_a_unit(string size, long bytes)
    {
        Assert.Equal(bytes, ResourceSet.ParseSize(size));
    }

    [Fact]
    public void Fractions_go_down_to_a_ten_thousandth_as_in_Ray()
    {
        Assert.True(ResourceSet.TryParse("gpu=0.0001", out var resources, out _));
        Assert.Equal(0.0001m, resources[ResourceSet.Gpu]);
        Assert.False(ResourceSet.TryParse("gpu=0.00001", out _, out _));
    }

    [Theory]
    [InlineData("cpu=x", "cpu 'x' is not an amount: use a number from 0 with at most 4 decimal places")]
    [InlineData("cpu=-1", "cpu '-1' is not an amount: use a number from 0 with at most 4 decimal places")]
    [InlineData("memory=12parsecs", "memory '12parsecs' is not a size: use bytes or a number with B, KiB, MiB, GiB or TiB (e.g. 500MiB, 8GiB)")]
    [InlineData("gpu", "'gpu' is not NAME=AMOUNT (names: lower-case letters, digits and '_', e.g. cpu=4 or memory=500MiB)")]
    [InlineData("Bad=1", "'Bad=1' is not NAME=AMOUNT (names: lower-case letters, digits and '_', e.g. cpu=4 or memory=500MiB)")]
    [InlineData("cpu=1,cpu=2", "'cpu' is given twice")]
    [InlineData("", "no resources given; write NAME=AMOUNT[,NAME=AMOUNT...], e.g. cpu=4,gpu=1,memory=8GiB")]
    public void Malformed_resources_get_one_clear_line(string text, string error)
    {
        Assert.False(ResourceSet.TryParse(text, out _, out var message));
        Assert.Equal(error, message);
    }

    [Fact]
    public void Given_resources_override_detected_ones_and_keep_the_rest()
    {
        var detected = ResourceSet.Empty.With(ResourceSet.Cpu, 2).With(ResourceSet.Gpu, 0).With(ResourceSet.Memory, 1024);
        Assert.True(ResourceSet.TryParse("gpu=4,accelerator_x=1", out var given, out _));

        var merged = detected.Merge(given);

        Assert.Equal((2m, 4m, 1024m, 1m), (merged[ResourceSet.Cpu], merged[ResourceSet.Gpu], merged[ResourceSet.Memory], merged["accelerator_x"]));
    }
}
