using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Bank.Nodes.Cli;

/// <summary>
/// Every command of `bank`, its arguments and options, declared once; `--help` on each, the usage lines of errors
/// and docs/cli.md are all rendered from this tree, so they cannot drift apart.
/// </summary>
public static class CommandTree
{
    /// <summary>Help is wrapped at a fixed width so that docs/cli.md comes out the same on every machine.</summary>
    public const int HelpWidth = 120;

    public const string ExitCodesText =
        "0 ok, 1 rule violation or actor error, 2 usage error, 3 no such actor, 4 cluster unreachable or outcome unknown (the JSON kind tells which), 5 unauthorized, 130 interrupted (Ctrl+C or SIGTERM).";

    /// <summary>Built once per process: parsing only reads it.</summary>
    public static RootCommand Root { get; } = Build();

    private static RootCommand Build()
    {
        var root = new RootCommand("bank: Ray-style stateful remote actors on an Akka.NET cluster.");
        root.Options.Add(SharedOptions.Json);
        foreach (var command in NodeCommands().Concat(ClientCommands.Create()).Append(ChaosCommands.Create()).Concat(InspectionCommands.Create()).Append(CertCommands.Create()).Append(ConfigCommand.Create()))
            root.Subcommands.Add(command);

        // The tool's version and the commit it was built from (x.y.z+SHA), as `dotnet tool list` and issues name a build.
        var version = root.Options.OfType<VersionOption>().Single();
        version.Action = new PrintAction(Version);

        // System.CommandLine 2.0 keeps its help layout internal: ours prints the synopsis every error line quotes too.
        root.Options.OfType<HelpOption>().Single().Action = new HelpAction();

        // `bank help` as well as `bank --help`; and the reference that docs/cli.md holds.
        var help = new Command("help", "Print this help.") { Hidden = true };
        help.SetAction(parsed => { Help(parsed.RootCommandResult.Command, parsed.InvocationConfiguration.Output); return ExitCodes.Ok; });
        root.Subcommands.Add(help);
        // Written to a file when one is named: `dotnet run`'s build warnings go to stdout and must not land in docs/cli.md.
        var markdownFile = new Argument<string?>("FILE") { Arity = ArgumentArity.ZeroOrOne };
        var markdown = new Command("help-markdown", "Print docs/cli.md, the reference of every command, from this tree.") { markdownFile };
        markdown.Hidden = true;
        markdown.SetAction(parsed =>
        {
            if (parsed.GetValue(markdownFile) is { } file) File.WriteAllText(file, Markdown());
            else parsed.InvocationConfiguration.Output.Write(Markdown());
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(markdown);
        return root;
    }

    private static IEnumerable<Command> NodeCommands() => [DemoCommand.Create(), BenchCommand.Create(), StartCommand.Create()];

    /// <summary>
    /// The package version (Version in src/Nodes/Nodes.csproj) and, when built from a git checkout, the commit:
    /// <c>0.2.0+1a2b3c...</c> (the SDK's SourceLink puts the commit in the informational version).
    /// </summary>
    public static string Version =>
        typeof(CommandTree).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
        ?? typeof(CommandTree).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Every command that can be run or asked for help, depth first, hidden ones left out; "bank" first.</summary>
    public static IEnumerable<(string Path, Command Command)> Commands()
    {
        var stack = new Stack<(string, Command)>([("bank", Root)]);
        while (stack.Count > 0)
        {
            var (path, command) = stack.Pop();
            yield return (path, command);
            foreach (var child in command.Subcommands.Where(c => !c.Hidden).Reverse())
                stack.Push(($"{path} {child.Name}", child));
        }
    }

    /// <summary>The command's usage in one line, e.g. <c>bank demo [--data DIR] [--journal sqlite|postgres] [--connection STRING]</c>.</summary>
    public static string Synopsis(Command command)
    {
        var visible = command.Subcommands.Where(c => !c.Hidden).ToList();
        if (visible.Count > 0 && command is not RootCommand)
            return string.Join(" | ", visible.Select(Synopsis));

        var words = new List<string> { PathOf(command) };
        words.AddRange(command.Arguments.Where(a => !a.Hidden).Select(a => a.Arity.MinimumNumberOfValues == 0 ? $"[{a.HelpName ?? a.Name}]" : a.HelpName ?? a.Name));
        foreach (var option in command.Options.Where(o => !o.Hidden && !o.Recursive && o is not HelpOption && o is not VersionOption))
        {
            var word = TakesNoValue(option) ? option.Name : $"{option.Name} {option.HelpName ?? "VALUE"}";
            words.Add(option.Required ? word : $"[{word}]");
        }

        return string.Join(' ', words);
    }

    /// <summary>A switch: `--entities`, not `--entities true` (System.CommandLine accepts both).</summary>
    private static bool TakesNoValue(Option option) =>
        option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool) || option is HelpOption or VersionOption;

    private static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Symbol? at = command; at is Command each; at = at.Parents.FirstOrDefault())
            names.Add(each is RootCommand ? "bank" : each.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>A command's `--help`: what it does, its usage, its arguments, options and subcommands, wrapped at <see cref="HelpWidth"/>.</summary>
    public static void Help(Command command, TextWriter output)
    {
        if (command.Description is { Length: > 0 } description)
        {
            foreach (var line in Wrap(description, HelpWidth))
                output.WriteLine(line);
            output.WriteLine();
        }

        output.WriteLine("Usage:");
        var usages = command is RootCommand
            ? Commands().Where(c => c.Command.Subcommands.Count == 0).Select(c => Synopsis(c.Command)).Append("bank --help | bank --version")
            : Synopsis(command).Split(" | ");
        foreach (var usage in usages)
            output.WriteLine("  " + usage);

        Section(output, "Arguments:", command.Arguments.Where(a => !a.Hidden).Select(a => (a.HelpName ?? a.Name, a.Description)));
        var options = command.Options.Where(o => !o.Hidden).Concat(RecursiveOptions(command).Where(o => !command.Options.Contains(o)));
        Section(output, "Options:", options.Select(o => (OptionLabel(o), o.Required ? $"{o.Description} Required." : o.Description)));
        Section(output, "Commands:", command.Subcommands.Where(c => !c.Hidden).Select(c => (c.Name, c.Description)));
        if (command is RootCommand)
        {
            output.WriteLine();
            output.WriteLine("Exit codes:");
            output.WriteLine("  " + ExitCodesText);
            output.WriteLine();
            output.WriteLine("Environment:");
            output.WriteLine($"  BANK_ADDRESS  the cluster of the client commands when --address is not given (default {ClientCommands.DefaultAddress})");
            output.WriteLine("  NO_COLOR      no colour, even on a terminal (there is none in a pipe, a file or with --json anyway)");
            output.WriteLine("  BANK_DEBUG=1  an unexpected error's stack trace on stderr, after its one line");
            output.WriteLine();
            output.WriteLine("Every command's own help: bank COMMAND --help. Shell completion: see docs/cli.md.");
        }
    }

    private static IEnumerable<Option> RecursiveOptions(Command command)
    {
        for (var at = command.Parents.OfType<Command>().FirstOrDefault(); at is not null; at = at.Parents.OfType<Command>().FirstOrDefault())
            foreach (var option in at.Options.Where(o => o.Recursive && !o.Hidden))
                yield return option;
    }

    private static string OptionLabel(Option option)
    {
        var names = string.Join(", ", option.Aliases.Where(a => !a.StartsWith('/') && a != "-?").OrderBy(a => a.Length).Append(option.Name));
        return TakesNoValue(option) ? names : $"{names} {option.HelpName ?? "VALUE"}";
    }

    /// <summary>A titled list of names and their descriptions in two columns; nothing when the list is empty.</summary>
    private static void Section(TextWriter output, string title, IEnumerable<(string Name, string? Description)> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        output.WriteLine();
        output.WriteLine(title);
        var width = list.Max(r => r.Name.Length) + 4;
        foreach (var (name, description) in list)
        {
            var lines = Wrap(description ?? "", Math.Max(40, HelpWidth - width)).ToList();
            output.WriteLine(("  " + name.PadRight(width - 2) + lines.FirstOrDefault()).TrimEnd());
            foreach (var more in lines.Skip(1))
                output.WriteLine(new string(' ', width) + more);
        }
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }

            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }

        if (line.Length > 0) yield return line.ToString();
    }

    /// <summary>docs/cli.md: every command's `--help`, from this tree (a spec fails when the committed file differs).</summary>
    public static string Markdown()
    {
        var text = new StringWriter { NewLine = "\n" };
        text.WriteLine("# The `bank` command line");
        text.WriteLine();
        text.WriteLine("Generated from the command tree by `dotnet run --project src/Nodes -- help-markdown docs/cli.md`;");
        text.WriteLine("`CommandTreeSpecs` fails when this file differs from what `bank COMMAND --help` prints. Do not edit it by hand.");
        text.WriteLine();
        text.WriteLine("## Shell completion");
        text.WriteLine();
        text.WriteLine("`bank` answers System.CommandLine's `[suggest]` directive with the words that may come next, one a line:");
        text.WriteLine("`bank \"[suggest:N]\" \"LINE\"` completes the command line LINE at cursor position N (commands, options, and the");
        text.WriteLine("values of --journal, --state-store and --type). For bash, put this in ~/.bashrc (with `bank` on the PATH):");
        text.WriteLine();
        text.WriteLine("```bash");
        text.WriteLine("_bank() {");
        text.WriteLine("  local IFS=$'\\n'");
        text.WriteLine("  COMPREPLY=($(compgen -W \"$(bank \"[suggest:${COMP_POINT}]\" \"${COMP_LINE}\" 2>/dev/null)\" -- \"${COMP_WORDS[COMP_CWORD]}\"))");
        text.WriteLine("}");
        text.WriteLine("complete -F _bank bank");
        text.WriteLine("```");
        foreach (var (path, command) in Commands())
        {
            text.WriteLine();
            text.WriteLine($"## `{path}`");
            text.WriteLine();
            text.WriteLine("```text");
            var help = new StringWriter { NewLine = "\n" };
            Help(command, help);
            text.WriteLine(string.Join("\n", help.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').Select(l => l.TrimEnd())));
            text.WriteLine("```");
        }

        return text.ToString();
    }

    internal sealed class HelpAction : SynchronousCommandLineAction
    {
        // Help is asked for: a missing argument or an unknown word next to --help is not an error.
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            Help(parseResult.CommandResult.Command, parseResult.InvocationConfiguration.Output);
            return ExitCodes.Ok;
        }
    }

    private sealed class PrintAction(string text) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(text);
            return ExitCodes.Ok;
        }
    }
}
