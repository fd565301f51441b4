using System.Net;

namespace Bank.Hosting;

/// <summary>Whether an address a node listens on stays on this machine: the line between zero-configuration and TLS.</summary>
public static class Loopback
{
    /// <summary>
    /// True for IP literals in 127.0.0.0/8 and ::1 (IPv4-mapped too) and for the name "localhost". Any other name counts as
    /// beyond loopback without asking DNS, whose answer may change after the check; 0.0.0.0 and :: listen everywhere.
    /// </summary>
    public static bool Is(string host)
    {
        var bare = host.Trim();
        if (bare.StartsWith('[') && bare.EndsWith(']')) bare = bare[1..^1];
        if (IPAddress.TryParse(bare, out var address))
            return IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        return string.Equals(bare.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase);
    }
}
