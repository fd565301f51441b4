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

    /// <summary>What the probe's handshake found out.</summary>
    private enum Verdict { Unknown, RequiresTls, Refused, NotTls, SilentToTls }

    /// <summary>Why a client could not reach the node at HOST:PORT, or null.</summary>
    /// <param name="certificate">The client's certificate (with its key), or null for a plain-text client.</param>
    public static async Task<string?> DiagnoseAsync(string host, int port, X509Certificate2? certificate)
    {
        var where = $"{host}:{port}";
        return await ProbeAsync(host, port, certificate) switch
        {
            Verdict.RequiresTls => RequiresTls(where),
            Verdict.Refused => Refused(where),
            Verdict.NotTls => $"the node at {where} does not speak TLS: start it with --tls DIR too, or leave --tls out",
            _ => null,
        };
    }

    /// <summary>Why a node could not join the seed at HOST:PORT, or null.</summary>
    /// <param name="certificate">The joining node's certificate (with its key), or null for a plain-text node.</param>
    public static async Task<string?> DiagnoseSeedAsync(string host, int port, X509Certificate2? certificate)
    {
        var where = $"{host}:{port}";
        return await ProbeAsync(host, port, certificate) switch
        {
            Verdict.RequiresTls =>
                $"the seed at {where} requires TLS: start this node with --tls DIR (a node certificate of the cluster's CA, `bank cert issue --role node`)",
            Verdict.Refused =>
                $"the seed at {where} refused this node's TLS certificate: give --tls a node certificate of the seed's cluster CA (`bank cert issue --role node`)",
            Verdict.NotTls or Verdict.SilentToTls =>
                $"the seed at {where} does not speak TLS: start it with --tls DIR too, or start this node without --tls",
            _ => null,
        };
    }

    private static async Task<Verdict> ProbeAsync(string host, int port, X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(host, port).WaitAsync(Patience);
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return Verdict.Unknown;
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
            if (certificate is null) return Verdict.RequiresTls;
            // TLS 1.3 tells a refused client certificate after the handshake: the node closes the connection.
            var read = await tls.ReadAsync(new byte[1]).AsTask().WaitAsync(Patience);
            return read == 0 ? Verdict.Refused : Verdict.Unknown;
        }
        catch (TimeoutException)
        {
            // A plain-text Akka.Remote listener waits for more of the "frame" a ClientHello looks like to it: silence.
            return spokeTls || certificate is null ? Verdict.Unknown : Verdict.SilentToTls;
        }
        catch (Exception) when (spokeTls)
        {
            return certificate is null ? Verdict.RequiresTls : Verdict.Refused;
        }
        catch (Exception)
        {
            return certificate is null ? Verdict.Unknown : Verdict.NotTls;
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
