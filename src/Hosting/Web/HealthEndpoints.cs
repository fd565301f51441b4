using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bank.Hosting.Web;

/// <summary>
/// <c>/health/live</c> and <c>/health/ready</c> on a node's HTTP port: 200 when every check of the kind is healthy, else
/// 503; the JSON body names each check with its status and why, and lists the failing ones, so that an operator reading
/// a probe's answer knows which to look at. They reveal nothing else and ask no one to sign in.
/// </summary>
public static class HealthEndpoints
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Whether a request is for a health endpoint: those answer anyone who reaches the port.</summary>
    public static bool IsHealth(PathString path) => path.StartsWithSegments("/health");

    /// <summary>Maps both endpoints onto <paramref name="app"/>, running the node's checks tagged <see cref="NodeHealth.Live"/> or <see cref="NodeHealth.Ready"/>.</summary>
    public static IEndpointRouteBuilder MapBankHealth(this IEndpointRouteBuilder app, HealthCheckService checks)
    {
        app.MapGet(LivePath, (HttpContext context) => AnswerAsync(context, checks, NodeHealth.Live));
        app.MapGet(ReadyPath, (HttpContext context) => AnswerAsync(context, checks, NodeHealth.Ready));
        return app;
    }

    private static async Task AnswerAsync(HttpContext context, HealthCheckService checks, string tag)
    {
        var report = await checks.CheckHealthAsync(check => check.Tags.Contains(tag), context.RequestAborted);
        var healthy = report.Status == HealthStatus.Healthy;
        context.Response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        await context.Response.WriteAsJsonAsync(new HealthAnswer(
            healthy ? "healthy" : "unhealthy",
            [.. report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => e.Key).Order(StringComparer.Ordinal)],
            report.Entries.ToDictionary(e => e.Key, e => new CheckAnswer(Text(e.Value.Status), e.Value.Description ?? e.Value.Exception?.Message))),
            Json, context.RequestAborted);
    }

    private static string Text(HealthStatus status) => status.ToString().ToLowerInvariant();

    private sealed record HealthAnswer(string Status, IReadOnlyList<string> Failed, IReadOnlyDictionary<string, CheckAnswer> Checks);

    private sealed record CheckAnswer(string Status, string? Description);
}
