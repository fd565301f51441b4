namespace Bank.Hosting.Contracts;

/// <summary>Names that more than one place must agree on: roles, shard types, persistence ids, plugin ids.</summary>
public static class BankConstants
{
    public const string ActorSystemName = "bank";

    /// <summary>The scheme of node addresses: akka.tcp in plain text, akka.ssl.tcp with TLS (Akka.Remote's DotNetty names it so).</summary>
    public static string ProtocolOf(bool tls) => tls ? "akka.ssl.tcp" : "akka.tcp";

    /// <summary>Shard type name of the Account entities.</summary>
    public const string AccountShardType = "account";

    /// <summary>Shard type name of the transfer sagas.</summary>
    public const string TransferShardType = "transfer";

    /// <summary>Persistence id of the registry of named actors.</summary>
    public const string RegistryPersistenceId = "bank-name-registry";

    /// <summary>Name of the registry's cluster singleton (its manager actor is /user/name-registry).</summary>
    public const string RegistrySingletonName = "name-registry";

    /// <summary>Name of the placement coordinator's cluster singleton (its manager actor is /user/placement).</summary>
    public const string PlacementSingletonName = "placement";

    /// <summary>Path, on every node, of the gateway that ClusterClient requests are sent to.</summary>
    public const string GatewayPath = "/user/bank-gateway";

    /// <summary>Name of the actor system of a node's client door (TLS only): clients talk to it, never to the cluster's.</summary>
    public const string DoorSystemName = "bank-door";

    /// <summary>Path, in the door system, of the door that clients send their credentialed requests to.</summary>
    public const string DoorPath = "/system/door";

    /// <summary>
    /// The cluster role by which a node tells where its client door listens: <c>client-door-HOST-PORT</c> (roles are
    /// unquoted in HOCON: no '=' or ':').
    /// </summary>
    public const string DoorRolePrefix = "client-door-";

    public const string AccountPersistenceIdPrefix = "account-";

    /// <summary>Identifier of the SQL persistence plugin (journal and snapshot store).</summary>
    public const string SqlPluginId = "sql";

    public const string SerializerName = "bank";

    public const int SerializerId = 4711;
}

/// <summary>ActorRegistry key of the Account shard region.</summary>
public sealed class AccountRegionKey;

/// <summary>ActorRegistry key of the registry of named actors.</summary>
public sealed class NameRegistryKey;

/// <summary>ActorRegistry key of the placement coordinator of actors that hold resources.</summary>
public sealed class PlacementCoordinatorKey;

/// <summary>ActorRegistry key of the transfer saga shard region.</summary>
public sealed class TransferRegionKey;
