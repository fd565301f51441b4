using System.Text.RegularExpressions;
using Bank.Hosting.Configuration;
using Bank.Hosting.Dashboard;
using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests.Configuration;

/// <summary>
/// deploy/Dockerfile and deploy/compose.yaml cannot be run here (no container runtime): what they ask of `bank` is checked
/// instead, so that they do not drift from the code: flags `bank start` has, variables it reads, ports it listens on.
/// </summary>
public sealed partial class DeploySpecs
{
    private const int ManagementPort = Bank.Hosting.Bootstrap.BootstrapOptions.DefaultManagementPort;

    private static string Dockerfile => File.ReadAllText(Repository.PathOf("deploy", "Dockerfile"));

    private static string Compose => File.ReadAllText(Repository.PathOf("deploy", "compose.yaml"));

    private static readonly IReadOnlySet<string> StartFlags = CommandTree.Root.Subcommands.Single(c => c.Name == "start").Options
        .Concat(CommandTree.Root.Options.Where(o => o.Recursive))
        .SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every command line the examples give `bank start`: the Dockerfile's CMD and each service's command.</summary>
    private static IEnumerable<string[]> StartCommands() =>
        JsonArrays(Dockerfile, "CMD").Concat(JsonArrays(Compose, "command:"));

    private static IEnumerable<string[]> JsonArrays(string text, string keyword) =>
        Regex.Matches(text, $@"^\s*{Regex.Escape(keyword)}\s*\[(?<items>[^\]]*)\]", RegexOptions.Multiline)
            .Select(m => Quoted().Matches(m.Groups["items"].Value).Select(q => q.Groups[1].Value).ToArray());

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex Quoted();

    [Fact]
    public void The_image_runs_bank_start()
    {
        Assert.Equal([["dotnet", "bank.dll", "start"]], JsonArrays(Dockerfile, "ENTRYPOINT"));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "bank.dll")), "the `bank` executable is not bank.dll");
        Assert.Equal(4, StartCommands().Count());
    }

    [Fact]
    public void Every_flag_of_the_examples_is_one_bank_start_has()
    {
        var flags = StartCommands().SelectMany(words => words).Where(w => w.StartsWith("--", StringComparison.Ordinal)).Distinct().ToList();

        Assert.NotEmpty(flags);
        Assert.All(flags, flag => Assert.True(StartFlags.Contains(flag),
            $"deploy/ uses {flag}, which `bank start` does not have"));
    }

    [Fact]
    public void Every_variable_of_Bank_the_examples_set_is_one_the_code_reads()
    {
        var variables = VariableName().Matches(Dockerfile + Compose).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.Contains("BANK__PERSISTENCE__WRITE_TIMEOUT", variables);
        Assert.All(variables, name => Assert.True(
            AppSettings.IsVariableOfItsOwn(name)
                ? ConfigCommand.Variables.Contains(name)
                : AppSettings.FromVariable(name, "") is { } setting && BankHocon.Defaults.HasPath(setting.Path),
            $"deploy/ sets {name}, which `bank` does not read"));
    }

    [GeneratedRegex(@"^\s*(?<name>(?:BANK|AKKA)_[A-Za-z0-9_]+)\s*:", RegexOptions.Multiline)]
    private static partial Regex VariableName();

    [Fact]
    public void The_ports_the_examples_expose_are_the_ports_the_node_listens_on()
    {
        int[] listened = [StartCommand.DefaultHeadPort, DashboardOptions.DefaultPort, ManagementPort];
        var exposed = Regex.Match(Dockerfile, @"^EXPOSE (?<ports>.*)$", RegexOptions.Multiline).Groups["ports"].Value
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.Equal(listened, exposed);

        foreach (var words in StartCommands())
        {
            var options = words.Zip(words.Skip(1), (flag, value) => (Flag: flag, Value: value))
                .Where(p => p.Flag.StartsWith("--", StringComparison.Ordinal))
                .ToDictionary(p => p.Flag, p => p.Value);
            if (options.TryGetValue("--port", out var port)) Assert.Equal(StartCommand.DefaultHeadPort, int.Parse(port));
            if (options.TryGetValue("--http-port", out var http)) Assert.Equal(DashboardOptions.DefaultPort, int.Parse(http));
            if (options.TryGetValue("--management-port", out var management)) Assert.Equal(ManagementPort, int.Parse(management));
            if (options.TryGetValue("--contact-points", out var contacts))
                Assert.All(contacts.Split(','), contact => Assert.EndsWith($":{ManagementPort}", contact));
        }

        // What compose publishes is a port the image exposes: "HOST:CONTAINER".
        var published = Regex.Matches(Compose, @"""\d+:(?<port>\d+)""").Select(m => int.Parse(m.Groups["port"].Value)).ToList();
        Assert.NotEmpty(published);
        Assert.All(published, p => Assert.Contains(p, exposed));
    }
}
