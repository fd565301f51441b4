using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>
/// The specs that run whole clusters of `bank` processes take turns: on a small CI machine two clusters at once starve
/// each other's failure detectors and skew the failover times the specs measure.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection
{
    public const string Name = "bank clusters";
}
