using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Bank.Hosting.Security;

/// <summary>
/// Checks the credential every client request carries. The first sight of a credential costs an ECDSA verification;
/// after that it is known by its SHA-256 (bounded cache, oldest evicted) and the hot path is a hash and a
/// constant-time compare of hashes: the secret itself is never compared as a string.
/// </summary>
public sealed class CredentialVerifier
{
    /// <summary>How many verified credentials are remembered; the oldest goes first.</summary>
    public const int CacheCapacity = 1024;

    private readonly int capacity;

    private readonly ECDsa publicKey;
    private readonly TimeProvider clock;
    private readonly Lock gate = new();
    private readonly Dictionary<ulong, Known> known = [];
    private readonly Queue<ulong> order = new();
    private int signatureChecks;

    public CredentialVerifier(X509Certificate2 authority) : this(authority, TimeProvider.System) { }

    public CredentialVerifier(X509Certificate2 authority, TimeProvider clock, int capacity = CacheCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
        publicKey = authority.GetECDsaPublicKey() ?? throw new TlsSetupException("the cluster CA's certificate holds no ECDSA key");
        this.clock = clock;
    }

    /// <summary>How many credentials needed a signature check (the cache's misses), for specs and diagnostics.</summary>
    public int SignatureChecks => Volatile.Read(ref signatureChecks);

    /// <summary>
    /// The role the credential proves, or null (bad signature, other CA, expired, malformed). Thread-safe; caches
    /// verified credentials by their SHA-256 (bounded) so that the hot path is a hash + a constant-time compare.
    /// </summary>
    public BankRole? Verify(string? credential)
    {
        if (credential is null || credential.Length is 0 or > Credentials.MaxLength)
            return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(credential));
        var slot = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        var now = clock.GetUtcNow();
        lock (gate)
        {
            if (known.TryGetValue(slot, out var entry) && CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
                return entry.NotAfter > now ? entry.Role : null;
        }

        Interlocked.Increment(ref signatureChecks);
        CredentialClaims? claims;
        lock (gate) claims = Credentials.Read(credential, publicKey); // ECDsa instances are not documented thread-safe
        if (claims is null || claims.NotAfter <= now)
            return null;
        lock (gate) Remember(slot, new Known(hash, claims.Role, claims.NotAfter));
        return claims.Role;
    }

    private void Remember(ulong slot, Known entry)
    {
        if (!known.ContainsKey(slot))
        {
            while (known.Count >= capacity && order.TryDequeue(out var oldest))
                known.Remove(oldest);
            order.Enqueue(slot);
        }
        known[slot] = entry;
    }

    private sealed record Known(byte[] Hash, BankRole Role, DateTimeOffset NotAfter);
}
