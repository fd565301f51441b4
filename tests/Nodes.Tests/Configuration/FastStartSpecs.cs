using System.Diagnostics;
using Xunit;

namespace Bank.Nodes.Tests.Configuration;

/// <summary>
/// A client command's fast start (issue 19): a publish of `bank` for a platform is ReadyToRun, so that the process does
/// not JIT-compile Akka to start its actor system. Checked on the project's settings, not on a timing, which CI's load
/// would make flaky (the figures: docs/benchmarks.md, "A client's start").
/// </summary>
public sealed class FastStartSpecs
{
    [Fact]
    public async Task A_publish_for_a_platform_is_ReadyToRun_and_a_build_without_one_is_not()
    {
        Assert.Equal("true", await PropertyAsync("PublishReadyToRun", "-p:RuntimeIdentifier=linux-x64"));
        // Without a platform ReadyToRun cannot apply (the SDK refuses it): `dotnet build`, `dotnet run` and the tool pack stay as they were.
        Assert.Equal("", await PropertyAsync("PublishReadyToRun"));
    }

    private static async Task<string> PropertyAsync(string name, params string[] properties)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["msbuild", Repository.PathOf("src", "Nodes", "Nodes.csproj"), $"-getProperty:{name}", "-nologo", .. properties])
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet msbuild");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(process.ExitCode == 0, $"dotnet msbuild exited {process.ExitCode}: {await stdout}{await stderr}");
        return (await stdout).Trim();
    }
}
