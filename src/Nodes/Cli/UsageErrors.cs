using System.CommandLine;
using System.CommandLine.Parsing;
using Bank.Domain;

namespace Bank.Nodes.Cli;

/// <summary>
/// A command line the tree refuses, as one line a user can act on, instead of System.CommandLine's list of errors
/// followed by the whole help.
/// </summary>
public static class UsageErrors
{
    public static string Describe(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var unmatched = parsed.UnmatchedTokens.FirstOrDefault();
        var usage = $"usage: {CommandTree.Synopsis(command)}";
        if (command is RootCommand)
            return unmatched is null
                ? "no command given; run 'bank --help'"
                : $"unknown command '{TextEcho.OneLine(unmatched)}'; run 'bank --help'";
        if (command.Subcommands.Any(c => !c.Hidden))
            return unmatched is null
                ? $"missing argument; {usage}"
                : $"unknown {command.Name} action '{TextEcho.OneLine(unmatched)}'; {usage}";
        if (UnknownOption(parsed) is { } unknown)
            return unknown;
        if (unmatched is not null)
            return unmatched.StartsWith('-') && !decimal.TryParse(unmatched, out _)
                ? UnknownOptionText(parsed, unmatched)
                : $"unexpected argument '{TextEcho.OneLine(unmatched)}'; {usage}";

        foreach (var error in parsed.Errors)
        {
            switch (error.SymbolResult)
            {
                case OptionResult { IdentifierToken: not null } option when option.Tokens.Count == 0 && option.Option.Arity.MinimumNumberOfValues > 0:
                    return $"{option.Option.Name} needs a value";
                case ArgumentResult argument when argument.Tokens.Count < argument.Argument.Arity.MinimumNumberOfValues:
                    return $"missing argument; {usage}";
            }
        }

        if (command.Arguments.Any(a => a.Arity.MinimumNumberOfValues > 0 && parsed.GetResult(a) is null))
            return $"missing argument; {usage}";
        if (command.Options.FirstOrDefault(o => o.Required && parsed.GetResult(o) is null or { IdentifierToken: null }) is { } required)
            return $"{required.Name} is required; {usage}";
        // What is left are the texts of the tree's own parsers and validators (a bad amount, a bad name), already one line each.
        return parsed.Errors[0].Message.ReplaceLineEndings(" ");
    }

    /// <summary>
    /// A word such as `--bogus` that System.CommandLine took for a positional value (it takes any word it does not know as
    /// one): refused, as before, so that `bank balance --bogus` is a typo, not an account named "--bogus".
    /// </summary>
    public static string? UnknownOption(ParseResult parsed) =>
        parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value)
            .FirstOrDefault(word => word.StartsWith("--", StringComparison.Ordinal) && word.Length > 2) is { } unknown
            ? UnknownOptionText(parsed, unknown)
            : null;

    private static string UnknownOptionText(ParseResult parsed, string option) =>
        $"unknown option '{TextEcho.OneLine(option)}'; see '{PathOf(parsed)} --help'";

    private static string PathOf(ParseResult parsed) =>
        CommandTree.Commands().FirstOrDefault(c => c.Command == parsed.CommandResult.Command).Path ?? "bank";
}
