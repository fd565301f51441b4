using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Bank.Hosting.Client;

/// <summary>
/// Why a connection to a node failed, when TLS is the reason: asked only after Akka.Remote reported the failure (never on
/// the happy path), by a short TLS handshake of its own with the same endpoint. Null when TLS is not the reason.
/// </summary>
public static class TlsProbe
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    /// <param name="certificate">The client's certificate (with its key), or null for a plain-text client.</param>
    public static async Task<string?> DiagnoseAsync(string host, int port, X509Certificate2? certificate)
    {
        var where = $"{host}:{port}";
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(host, port).WaitAsync(Patience);
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return null;
        }

        var spokeTls = false;
        // Only whether the node answers in TLS matters here; whom it is, the real connection checks.
        await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, _, _) => spokeTls = cert is not null);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ClientCertificates = certificate is null ? null : [certificate],
            }).WaitAsync(Patience);
            if (certificate is null) return RequiresTls(where);
            // TLS 1.3 tells a refused client certificate after the handshake: the node closes the connection.
            var read = await tls.ReadAsync(new byte[1]).AsTask().WaitAsync(Patience);
            return read == 0 ? Refused(where) : null;
        }
        catch (TimeoutException)
        {
            return null;
        }
        catch (Exception) when (spokeTls)
        {
            return certificate is null ? RequiresTls(where) : Refused(where);
        }
        catch (Exception)
        {
            return certificate is null ? null : $"the node at {where} does not speak TLS: start it with --tls DIR too, or leave --tls out";
        }
    }

    /// <summary>When the handshake failed for a reason the probe cannot tell: the usual causes.</summary>
    public static string HandshakeFailed(string where) =>
        $"the TLS handshake with the node at {where} failed: the node's certificate and this one must come from the same cluster CA (`bank cert issue`)";

    private static string RequiresTls(string where) =>
        $"the node at {where} requires TLS: give --tls DIR (made with `bank cert issue`)";

    private static string Refused(string where) =>
        $"the node at {where} refused this TLS certificate: use a client or admin certificate of its cluster's CA (`bank cert issue`) and the clients' address `bank start` printed";
}
