using System.Net;
using System.Net.Sockets;

namespace Bank.Testing;

/// <summary>The one way a test picks a port: one that nothing listens on right now.</summary>
public static class FreePort
{
    /// <summary>A loopback port the operating system just handed out and took back: bound, read, released.</summary>
    public static int Next()
    {
        using var held = Hold();
        return held.Port;
    }

    /// <summary>A loopback port the operating system just handed out, kept busy by this process until disposed.</summary>
    public static Held Hold()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new Held(listener);
    }

    /// <summary>A port in use: a listener nobody accepts on.</summary>
    public sealed class Held(TcpListener listener) : IDisposable
    {
        public int Port { get; } = ((IPEndPoint)listener.LocalEndpoint).Port;

        public void Dispose() => listener.Stop();
    }
}
