using System.CommandLine;
using System.Text.Json.Nodes;
using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting.Security;

namespace Bank.Nodes.Cli;

/// <summary>
/// `bank cert init` and `bank cert issue`: the cluster's own CA and the certificates `--tls DIR` takes, made with .NET
/// alone. Passwords come from BANK__TLS_PASSWORD or BANK__TLS_PASSWORD_FILE, never from argv (there is no option for one).
/// </summary>
public sealed class CertCommands(Output output)
{
    private const string PasswordNote = $"The .p12 files are encrypted with ${CertificateAuthority.PasswordVariable} (or the contents of the file "
                                        + $"${CertificateAuthority.PasswordVariable}_FILE names); with neither, with no password.";

    private static readonly Option<string> InitOut = new("--out")
    {
        HelpName = "DIR", Required = true, Description = "The new CA's folder (new or empty): ca.p12 (keep it private) and ca.crt.",
    };

    private static readonly Option<string> IssueOut = new("--out")
    {
        HelpName = "DIR", Required = true,
        Description = "The new folder (new or empty) for --tls: bank.p12, ca.crt and, for client and admin, credential.",
    };

    private static readonly Option<string> Ca = new("--ca") { HelpName = "DIR", Required = true, Description = "The CA's folder, made by `bank cert init`." };

    private static readonly Option<string> CertName = new("--name")
    {
        HelpName = "NAME", Required = true, Description = $"Who holds it: 1-{CertificateAuthority.MaxNameLength} characters of A-Z a-z 0-9 . _ -.",
    };

    private static readonly Option<string> Role = new("--role")
    {
        HelpName = "node|client|admin", Required = true,
        Description = "node: a cluster member; client: accounts and read-only inspection; admin: a client that may also stop nodes.",
        CompletionSources = { "node", "client", "admin" },
    };

    private static readonly Option<string[]> Sans = new("--san")
    {
        HelpName = "IP_OR_DNS",
        Description = "An address the holder is reached at, repeatable (default 127.0.0.1 and localhost).",
        Arity = ArgumentArity.OneOrMore,
    };

    public static Command Create()
    {
        var init = new Command("init", "Make the cluster's own certificate authority (ECDSA P-256, 10 years). " + PasswordNote) { InitOut };
        init.SetAction(parsed => new CertCommands(BankCli.OutputOf(parsed)).Init(parsed));
        var issue = new Command("issue", "Issue a certificate of the CA for a node, a client or an admin (1 year). " + PasswordNote)
        {
            Ca, CertName, Role, Sans, IssueOut,
        };
        issue.SetAction(parsed => new CertCommands(BankCli.OutputOf(parsed)).Issue(parsed));
        return new Command("cert", "Certificates for mutual TLS between nodes and clients.") { init, issue };
    }

    private int Init(ParseResult parsed)
    {
        var folder = Full(parsed.GetRequiredValue(InitOut), "--out");
        try
        {
            CertificateAuthority.Init(folder);
        }
        catch (TlsSetupException refused)
        {
            return output.Error(ErrorKind.RuleViolation, refused.Message, ExitCodes.Failure);
        }
        var next = $"bank cert issue --ca {folder} --name node-1 --role node --out DIR";
        if (output.Json)
            output.PrintJson(new JsonObject { ["ca"] = folder, ["files"] = Files(folder), ["next"] = next });
        else
        {
            output.Line($"Made a cluster CA in {folder} ({CertificateAuthority.AuthorityKeyFile} is its private key: keep it off the nodes)");
            output.Line($"Next: {next}");
        }
        return ExitCodes.Ok;
    }

    private int Issue(ParseResult parsed)
    {
        var ca = Full(parsed.GetRequiredValue(Ca), "--ca");
        var folder = Full(parsed.GetRequiredValue(IssueOut), "--out");
        var name = parsed.GetRequiredValue(CertName);
        if (!CertificateAuthority.IsValidName(name))
            throw new UsageException($"--name must be 1-{CertificateAuthority.MaxNameLength} characters of A-Z a-z 0-9 . _ -, not '{TextEcho.OneLine(name)}'");
        var roleText = parsed.GetRequiredValue(Role);
        var role = BankRoles.Parse(roleText) ?? throw new UsageException($"--role must be node, client or admin, not '{TextEcho.OneLine(roleText)}'");
        var sans = parsed.GetValue(Sans) ?? [];
        if (sans.FirstOrDefault(san => !CertificateAuthority.IsValidSan(san)) is { } bad)
            throw new UsageException($"--san must be an IP address or a DNS name, not '{TextEcho.OneLine(bad)}'");
        try
        {
            CertificateAuthority.Issue(ca, name, role, sans, folder);
        }
        catch (TlsSetupException refused)
        {
            return output.Error(ErrorKind.RuleViolation, refused.Message, ExitCodes.Failure);
        }
        // A client goes to the door address `bank start` prints (the cluster port refuses client certificates).
        var next = role == BankRole.Node
            ? $"bank start --head --tls {folder} (or, for the 2nd node on, bank start --address SEED:PORT --tls {folder})"
            : $"bank list --address HOST:CLIENTPORT --tls {folder} (HOST:CLIENTPORT as `bank start` prints it)";
        if (output.Json)
            output.PrintJson(new JsonObject
            {
                ["name"] = name, ["role"] = role.Text(), ["folder"] = folder, ["files"] = Files(folder), ["next"] = next,
            });
        else
        {
            output.Line($"Issued {Article(role)} {role.Text()} certificate for '{name}' in {folder}");
            output.Line($"Next: {next}");
        }
        return ExitCodes.Ok;
    }

    private static string Article(BankRole role) => role == BankRole.Admin ? "an" : "a";

    private static JsonArray Files(string folder) =>
        new(Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(f => (JsonNode?)f).ToArray());

    private static string Full(string path, string option)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"{option} '{TextEcho.OneLine(path)}' is not a usable path");
        }
    }
}
