using Akka.Actor;
using Akka.Management.Cluster.Bootstrap;

namespace Bank.Hosting.Lease;

/// <summary>
/// Akka.Management's lowest-address decision with one more condition on forming a new cluster: the node must first take
/// the journal's cluster lease, as `bank start --head` does before it joins itself, so a second bootstrapped cluster on
/// a journal that a live cluster owns is refused (one line, exit 1) instead of started. Joining a running cluster takes
/// nothing: the lease is its cluster's.
/// </summary>
public sealed class LeasedJoinDecider(ActorSystem system, ClusterBootstrapSettings settings) : LowestAddressJoinDecider(system, settings)
{
    private readonly ActorSystem _system = system;

    public override async Task<IJoinDecision> Decide(SeedNodesInformation info)
    {
        var decision = await base.Decide(info);
        if (decision is not JoinSelf) return decision;
        // Refused: the lease has told the node's start why, and the node stops; until then it keeps probing.
        return await ClusterLease.Get(_system).FormAsync() ? decision : KeepProbing.Instance;
    }
}
