using System.Net;
using System.Net.Sockets;

namespace Bank.Testing;

/// <summary>The one way a test picks a port: one that nothing listens on right now.</summary>
public static class FreePort
{
    /// <summary>A loopback port the operating system just handed out and took back: bound, read, released.</summary>
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
