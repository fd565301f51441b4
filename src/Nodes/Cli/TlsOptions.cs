using System.CommandLine;
using Bank.Hosting.Client;
using Bank.Hosting.Security;

namespace Bank.Nodes.Cli;

/// <summary>`--tls DIR` (else $BANK__TLS): the certificate folder a command connects or listens with, checked for its role.</summary>
public static class TlsOptions
{
    /// <summary>Whether --tls or $BANK__TLS names a folder.</summary>
    public static bool Given(ParseResult parsed) =>
        !string.IsNullOrWhiteSpace(parsed.GetValue(SharedOptions.Tls) ?? Environment.GetEnvironmentVariable(TlsIdentity.DirectoryVariable));

    /// <summary>The folder given, loaded; null when neither --tls nor $BANK__TLS is set. A bad folder is a usage error.</summary>
    public static TlsIdentity? Load(ParseResult parsed, string needs, params BankRole[] roles)
    {
        var directory = parsed.GetValue(SharedOptions.Tls) ?? Environment.GetEnvironmentVariable(TlsIdentity.DirectoryVariable);
        if (string.IsNullOrWhiteSpace(directory)) return null;
        TlsIdentity identity;
        try
        {
            identity = TlsIdentity.Load(directory);
        }
        catch (TlsSetupException bad)
        {
            throw new UsageException($"--tls: {bad.Message}");
        }

        return roles.Contains(identity.Role)
            ? identity
            : throw new UsageException($"--tls: the certificate '{identity.Name}' in {directory} is a {identity.Role.Text()} certificate; {needs}");
    }

    /// <summary>A client of the cluster at --address, through the nodes' client doors with --tls, else in plain text.</summary>
    public static Task<BankClient> ConnectAsync(ParseResult parsed) =>
        BankClient.ConnectAsync(ClientCommands.ContactPoints(parsed),
            Load(parsed, "a client command needs one issued with --role client or --role admin", BankRole.Client, BankRole.Admin));
}
