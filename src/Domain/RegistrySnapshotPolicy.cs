namespace Bank.Domain;

/// <summary>
/// When the registry saves a snapshot. A snapshot holds every actor the registry knows, so the next one waits for at
/// least as many events as the last one held (and at least <paramref name="Every"/>): snapshots cost the same per event
/// however many actors there are, and recovery replays at most that many events after one.
/// </summary>
public sealed record RegistrySnapshotPolicy(int Every, long LastSequenceNr = 0, int LastSize = 0)
{
    public bool IsDue(long sequenceNr) => sequenceNr - LastSequenceNr >= Math.Max(Every, LastSize);

    /// <summary>A snapshot of <paramref name="size"/> actors was taken (or recovered) at <paramref name="sequenceNr"/>.</summary>
    public RegistrySnapshotPolicy Taken(long sequenceNr, int size) => this with { LastSequenceNr = sequenceNr, LastSize = size };
}
