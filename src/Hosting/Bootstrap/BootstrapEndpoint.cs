using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json;

namespace Bank.Hosting.Bootstrap;

/// <summary>
/// Akka.Management's bootstrap endpoint, GET /bootstrap/seed-nodes, served by Kestrel on the management port. Akka.Management
/// 1.5.73 serves it with Ceen.Httpd through Akka.Http.Shim, which was built against Ceen.Httpd 0.9.9; only 0.9.10 is served,
/// and its changed ListenAsync makes the bind fail with MissingMethodException. The answer is the one Akka.Management gives
/// (its own JSON types, written by the same serializer), so the other nodes' bootstrap reads it as theirs.
/// </summary>
public sealed class BootstrapEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BootstrapEndpoint(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>This node's contact point, as the others discover it.</summary>
    public Uri Url { get; }

    /// <summary>Listens on the management host and port and tells cluster bootstrap that this is the node's contact point.</summary>
    public static async Task<BootstrapEndpoint> StartAsync(ActorSystem system, BootstrapOptions options)
    {
        var bound = await BindAddressAsync(options.ManagementHost);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(bound, options.ManagementPort);
        });
        var app = builder.Build();
        app.MapGet("/bootstrap/seed-nodes", () => Results.Content(SeedNodesJson(Cluster.Get(system)), "application/json"));
        await app.StartAsync();

        var host = options.ManagementHost.Contains(':') ? $"[{options.ManagementHost.Trim('[', ']')}]" : options.ManagementHost;
        var url = new Uri($"http://{host}:{options.ManagementPort}/");
        // What Akka.Management's own binding does: the bootstrap learns its contact point from the route settings.
        _ = ClusterBootstrap.Get(system).Routes(ManagementRouteProviderSettings.Create(url, readOnly: true));
        return new BootstrapEndpoint(app, url);
    }

    /// <summary>
    /// The members a joining node may join (reachable, Joining, WeaklyUp or Up), none while this node leaves or before it
    /// joined: a restarted node then joins the running cluster rather than forming its own.
    /// </summary>
    public static string SeedNodesJson(Cluster cluster)
    {
        var self = cluster.SelfMember;
        if (self.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed)
            return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.Address, []));
        var state = cluster.State;
        var members = state.Members
            .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToImmutableList();
        return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.Address, members));
    }

    private static async Task<IPAddress> BindAddressAsync(string host)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) return ip;
        if (Loopback.Is(host)) return IPAddress.Loopback;
        return (await Dns.GetHostAddressesAsync(host)).FirstOrDefault()
               ?? throw new InvalidOperationException($"the management host {host} has no address");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
