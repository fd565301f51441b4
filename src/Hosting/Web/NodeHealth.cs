using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.Persistence;
using Bank.Domain;
using Bank.Hosting.Journal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bank.Hosting.Web;

/// <summary>
/// The checks behind a node's <c>/health/live</c> and <c>/health/ready</c>: live while its actor system runs (Akka.Hosting's
/// own check); ready while the node is Up in its cluster and its journal answers a recovery. Akka.Cluster.Hosting's
/// readiness check stays healthy once the node has joined, so a leaving or downed node would still take traffic: ours
/// reads the member's status at each call.
/// </summary>
public static class NodeHealth
{
    /// <summary>The tag of the checks <c>/health/live</c> runs.</summary>
    public const string Live = "live";

    /// <summary>The tag of the checks <c>/health/ready</c> runs.</summary>
    public const string Ready = "ready";

    /// <summary>The names the JSON body gives each check.</summary>
    public const string ActorSystemCheck = "actor-system";
    public const string ClusterCheck = "cluster";
    public const string JournalCheck = "journal";

    /// <summary>Registers the node's health checks with its host (see <see cref="Web.HealthEndpoints"/> for their answers).</summary>
    public static AkkaConfigurationBuilder WithBankHealthChecks(this AkkaConfigurationBuilder builder)
    {
        builder.WithHealthCheck(new AkkaHealthCheckRegistration(ActorSystemCheck, new Akka.Hosting.HealthChecks.ActorSystemLivenessCheck(),
            HealthStatus.Unhealthy, [Live]));
        builder.WithHealthCheck(new AkkaHealthCheckRegistration(ClusterCheck, new MemberUpCheck(), HealthStatus.Unhealthy, [Ready]));
        builder.WithHealthCheck(new AkkaHealthCheckRegistration(JournalCheck, new JournalAnswersCheck(), HealthStatus.Unhealthy, [Ready]));
        return builder;
    }

    /// <summary>Healthy while this node is Up (or WeaklyUp) in its cluster; joining, leaving, exiting, down or removed is not.</summary>
    private sealed class MemberUpCheck : IAkkaHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (context.ActorSystem.WhenTerminated.IsCompleted)
                return Task.FromResult(HealthCheckResult.Unhealthy("the actor system has terminated"));
            var self = Cluster.Get(context.ActorSystem).SelfMember;
            return Task.FromResult(self.Status is MemberStatus.Up or MemberStatus.WeaklyUp
                ? HealthCheckResult.Healthy($"Up in the cluster as {self.Address}")
                : HealthCheckResult.Unhealthy($"this node is {self.Status.ToString().ToLowerInvariant()} in its cluster, not up"));
        }
    }

    /// <summary>
    /// Asks the node's journal for the highest sequence number of the one stream no one writes (<see cref="WarmJoin.PersistenceId"/>),
    /// as a recovery does: a query through the journal plugin's own connections, answered or failed within
    /// <c>bank.web.journal-check-timeout</c>.
    /// </summary>
    private sealed class JournalAnswersCheck : IAkkaHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var system = context.ActorSystem;
            var timeout = system.Settings.Config.GetTimeSpan("bank.web.journal-check-timeout", TimeSpan.FromSeconds(3));
            try
            {
                var journal = Persistence.Instance.Apply(system).JournalFor(null);
                var answer = await journal.Ask<object>(
                    replyTo => new ReplayMessages(1, 0, 0, WarmJoin.PersistenceId, replyTo), timeout, cancellationToken);
                return answer switch
                {
                    RecoverySuccess => HealthCheckResult.Healthy("the journal answered a recovery"),
                    ReplayMessagesFailure failure => HealthCheckResult.Unhealthy($"the journal failed a recovery: {OneLine(failure.Cause)}"),
                    _ => HealthCheckResult.Unhealthy($"the journal answered a recovery with {answer.GetType().Name}"),
                };
            }
            catch (AskTimeoutException)
            {
                return HealthCheckResult.Unhealthy($"the journal did not answer a recovery within {timeout.TotalSeconds:0.#} s");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"the journal did not answer a recovery within {timeout.TotalSeconds:0.#} s");
            }
        }

        private static string OneLine(Exception cause) => TextEcho.OneLine((cause.InnerException ?? cause).Message);
    }
}
