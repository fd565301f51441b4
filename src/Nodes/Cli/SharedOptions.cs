using System.CommandLine;

namespace Bank.Nodes.Cli;

/// <summary>The options more than one command takes, each declared once here.</summary>
public static class SharedOptions
{
    /// <summary>On the root and every command below it: one JSON object on stdout instead of lines for people.</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print exactly one JSON object on stdout, errors too ({\"error\":{\"kind\",\"message\"}}).",
        Recursive = true,
    };

    /// <summary>Where a client command reaches the cluster (<see cref="ClientCommands.ContactPoints"/>).</summary>
    public static readonly Option<string?> ClusterAddress = new("--address")
    {
        HelpName = "HOST:PORT",
        Description = $"The cluster to reach (HOST:PORT[,HOST:PORT...]); else $BANK_ADDRESS, else {ClientCommands.DefaultAddress}.",
    };

    public static readonly Option<string?> Data = new("--data")
    {
        HelpName = "DIR",
        Description = "The folder of the SQLite journal, DIR/bank.db (default ./data).",
    };

    public static readonly Option<string?> Journal = new("--journal")
    {
        HelpName = "sqlite|postgres",
        Description = "The journal: sqlite (default) or postgres.",
        CompletionSources = { "sqlite", "postgres" },
    };

    public static readonly Option<string?> Connection = new("--connection")
    {
        HelpName = "STRING",
        Description = "The PostgreSQL connection string, with --journal postgres.",
    };

    public static readonly Option<string?> Tls = new("--tls") { HelpName = "DIR", Description = "Mutual TLS with the certificate in DIR (made by `bank cert issue`); else $BANK__TLS; plain text when neither (loopback only)." };

    /// <summary>Whether the option was given on the command line (a switch, or an option with its value).</summary>
    public static bool Has(this ParseResult parsed, Option option) => parsed.GetResult(option) is { Implicit: false };
}
