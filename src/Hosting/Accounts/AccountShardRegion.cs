using Akka.Cluster.Sharding;
using Akka.Hosting;
using Bank.Hosting.Configuration;
using Bank.Hosting.Contracts;
using Bank.Hosting.Sharding;

namespace Bank.Hosting.Accounts;

/// <summary>Cluster Sharding routes account messages by their key; the shard is a hash of it.</summary>
public sealed class AccountMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    public override string? EntityId(object message) => message is IAccountEnvelope envelope ? envelope.Key : null;
}

public static class AccountHostingExtensions
{
    /// <summary>Starts the Account shard region on this node, registered as <see cref="AccountRegionKey"/>.</summary>
    public static AkkaConfigurationBuilder WithAccounts(this AkkaConfigurationBuilder builder, string? role = null, TimeProvider? clock = null)
    {
        return builder.WithSettledFirstShardRegion<AccountRegionKey>(
            BankConstants.AccountShardType,
            (system, _) =>
            {
                var settings = AccountSettings.From(system) with { Clock = clock ?? TimeProvider.System };
                return key => AccountSupervisor.PropsFor(key, settings);
            },
            new AccountMessageExtractor(builder.NodeConfig().GetInt("bank.accounts.number-of-shards", 100)),
            role, AccountSupervisor.StopWhenIdle.Instance);
    }
}
