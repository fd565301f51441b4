using System.Text.Json.Nodes;
using Bank.Nodes.Cli;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// The command tree, in process (no node): `--help` on every command, one-line usage errors, shell completion, and
/// docs/cli.md, which must be exactly what the tree prints.
/// </summary>
public sealed class CommandTreeSpecs
{
    /// <summary>Every command and subcommand of the tree, as the words after `bank`; the root is the empty list.</summary>
    public static TheoryData<string[]> EveryCommand() => [.. CommandTree.Commands().Select(c => c.Path.Split(' ').Skip(1).ToArray())];

    /// <summary>Every command that runs something (no subcommands of its own).</summary>
    public static TheoryData<string[]> EveryRunnableCommand() =>
        [.. CommandTree.Commands().Where(c => c.Command.Subcommands.Count == 0 && c.Path != "bank").Select(c => c.Path.Split(' ').Skip(1).ToArray())];

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await BankCli.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task Every_command_prints_its_usage_for_help_and_exits_0(string[] command)
    {
        var tree = CommandTree.Commands().Single(c => c.Path == string.Join(' ', ["bank", .. command])).Command;
        foreach (var help in new[] { "--help", "-h" })
        {
            var (code, output, error) = await RunAsync([.. command, help]);

            Assert.Equal(ExitCodes.Ok, code);
            Assert.Empty(error);
            var usage = output.ReplaceLineEndings("\n").Split("\nUsage:\n")[1].Split('\n')[0];
            if (command.Length > 0) Assert.Equal("  " + CommandTree.Synopsis(tree).Split(" | ")[0], usage);
            Assert.Contains("--help", output);
        }
    }

    [Theory]
    [MemberData(nameof(EveryRunnableCommand))]
    public async Task Every_runnable_command_refuses_an_unknown_option_in_one_line_with_exit_2(string[] command)
    {
        var (code, output, error) = await RunAsync([.. command, "--no-such-option"]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Empty(output);
        Assert.Equal($"error: unknown option '--no-such-option'; see 'bank {string.Join(' ', command)} --help'", error.TrimEnd('\r', '\n'));

        var (jsonCode, json, jsonError) = await RunAsync([.. command, "--no-such-option", "--json"]);
        Assert.Equal(ExitCodes.Usage, jsonCode);
        Assert.Empty(jsonError);
        var parsed = Assert.IsType<JsonObject>(JsonNode.Parse(json));
        Assert.Equal("Usage", (string?)parsed["error"]!["kind"]);
    }

    [Fact]
    public async Task The_root_help_lists_every_runnable_command_and_the_exit_codes()
    {
        var (_, output, _) = await RunAsync("--help");

        foreach (var (_, command) in CommandTree.Commands().Where(c => c.Command.Subcommands.Count == 0 && c.Path != "bank"))
            Assert.Contains("  " + CommandTree.Synopsis(command) + "\n", output.ReplaceLineEndings("\n"));
        Assert.Contains(CommandTree.ExitCodesText, output);
    }

    [Fact]
    public async Task The_executable_prints_a_subcommands_help_plainly_into_a_pipe()
    {
        var result = await BankProcess.RunAsync(TimeSpan.FromSeconds(60), "open", "--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Empty(result.Stderr);
        Assert.Contains("Usage:\n  bank open NAME --balance B [--minimal M]", result.Stdout);
        Assert.DoesNotContain('\u001b', result.Stdout);
    }

    [Fact]
    public async Task Help_as_a_command_prints_the_root_help()
    {
        var (helpCode, help, _) = await RunAsync("help");
        var (_, rootHelp, _) = await RunAsync("--help");

        Assert.Equal(ExitCodes.Ok, helpCode);
        Assert.Equal(rootHelp, help);
    }

    [Fact]
    public async Task Version_prints_the_packages_three_numbers_and_the_commit_it_was_built_from()
    {
        var (code, output, _) = await RunAsync("--version");

        Assert.Equal(ExitCodes.Ok, code);
        var match = System.Text.RegularExpressions.Regex.Match(output.Trim(), @"^(?<version>\d+\.\d+\.\d+)(\+(?<commit>[0-9a-f]{40}))?$");
        Assert.True(match.Success, $"bank --version printed '{output.Trim()}'");
        // The one place of the version: src/Nodes/Nodes.csproj.
        var project = File.ReadAllText(Repository.PathOf("src", "Nodes", "Nodes.csproj"));
        Assert.Contains($"<Version>{match.Groups["version"].Value}</Version>", project, StringComparison.Ordinal);
        // Built from a git checkout (CI's clone, a worktree): the commit is there, and it is one of this repository's.
        if (Path.Exists(Repository.PathOf(".git")))
        {
            Assert.True(match.Groups["commit"].Success, $"bank --version printed no commit: '{output.Trim()}'");
            var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", ["-C", Repository.Root, "cat-file", "-e", match.Groups["commit"].Value + "^{commit}"])
            { RedirectStandardError = true })!;
            await git.WaitForExitAsync();
            Assert.Equal(0, git.ExitCode);
        }
    }

    [Fact]
    public async Task The_suggest_directive_completes_commands_and_option_values()
    {
        var (code, commands, _) = await RunAsync("[suggest:8]", "bank ope");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(["open"], commands.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var (_, journals, _) = await RunAsync("[suggest:20]", "bank demo --journal ");
        Assert.Equal(["postgres", "sqlite"], journals.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public void Docs_cli_md_is_what_the_command_tree_prints()
    {
        var path = Path.Combine(Repository.Root, "docs", "cli.md");
        var expected = CommandTree.Markdown();

        Assert.True(File.Exists(path), $"{path} is missing: run `dotnet run --project src/Nodes -- help-markdown docs/cli.md`");
        Assert.True(expected == File.ReadAllText(path).ReplaceLineEndings("\n"),
            "docs/cli.md differs from the command tree's help: run `dotnet run --project src/Nodes -- help-markdown docs/cli.md`");
    }

    [Fact]
    public async Task Help_markdown_prints_what_docs_cli_md_holds()
    {
        var (code, output, _) = await RunAsync("help-markdown");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(CommandTree.Markdown(), output);
    }

    [Fact]
    public void A_table_off_a_terminal_is_plain_columns_two_spaces_apart()
    {
        var stdout = new StringWriter();
        var output = new Output(stdout, TextWriter.Null, json: false);

        output.Table(["NAME", "STATE", "ID"], [["alice", "ALIVE", "1"], ["b", "DEAD", "22"]], colour: (_, _) => Spectre.Console.Color.Red);

        Assert.False(output.Colour);
        Assert.Equal("NAME   STATE  ID\nalice  ALIVE  1\nb      DEAD   22\n", stdout.ToString().ReplaceLineEndings("\n"));
    }

}
