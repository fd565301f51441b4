namespace Bank.Hosting.Security;

/// <summary>What a certificate of the cluster's CA lets its holder do: join as a member, or call as a client or admin.</summary>
public enum BankRole { Node, Client, Admin }

/// <summary>The roles' names as they are written in certificates, credentials and on the command line.</summary>
public static class BankRoles
{
    public static string Text(this BankRole role) => role switch
    {
        BankRole.Node => "node",
        BankRole.Client => "client",
        BankRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>Exactly "node", "client" or "admin" (ordinal, lower case): no other spelling grants a role.</summary>
    public static BankRole? Parse(string? text) => text switch
    {
        "node" => BankRole.Node,
        "client" => BankRole.Client,
        "admin" => BankRole.Admin,
        _ => null,
    };
}
