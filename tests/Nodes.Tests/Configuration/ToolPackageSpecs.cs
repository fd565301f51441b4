using System.Diagnostics;
using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests.Configuration;

/// <summary>`bank` as a .NET tool: packed from this build, installed with `dotnet tool install`, run as a user would.</summary>
public sealed class ToolPackageSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly TempDataDirectory _folder = new();

    public ToolPackageSpecs() => Directory.CreateDirectory(_folder.Path);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_packed_tool_installs_into_a_tool_path_and_runs_version_and_the_demo()
    {
        var packages = Path.Combine(_folder.Path, "packages");
        var tools = Path.Combine(_folder.Path, "tools");
        // The configuration this test assembly was built in (bin/Debug/net10.0/): src/Nodes was built in it too.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        await RunOkAsync("dotnet", ["pack", Repository.PathOf("src", "Nodes"), "--no-build", "-c", configuration, "-o", packages]);

        // Offline: the package's only source is the folder it was packed to (a tool carries its dependencies), and a
        // NuGet cache of its own, so that no copy of the same version installed earlier is taken instead.
        var nugetConfig = Path.Combine(_folder.Path, "nuget.config");
        await File.WriteAllTextAsync(nugetConfig, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="bank" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        var packageVersion = CommandTree.Version.Split('+')[0];
        await RunOkAsync("dotnet", ["tool", "install", "--tool-path", tools, "--configfile", nugetConfig, "Bank.Cli", "--version", packageVersion],
            ("NUGET_PACKAGES", Path.Combine(_folder.Path, "nuget-cache")));

        var bank = Path.Combine(tools, OperatingSystem.IsWindows() ? "bank.exe" : "bank");
        Assert.Equal(CommandTree.Version, (await RunOkAsync(bank, ["--version"])).Trim());
        // The hocon/ defaults travel in the package: the demo needs them to start a node.
        var demo = await RunOkAsync(bank, ["demo", "--data", Path.Combine(_folder.Path, "data")]);
        Assert.Contains("Demo finished", demo, StringComparison.Ordinal);
    }

    private async Task<string> RunOkAsync(string file, string[] args, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _folder.Path,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} still ran after {Timeout.TotalMinutes} min");
        }

        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}\n{await stdout}\n{await stderr}");
        return await stdout;
    }
}
