using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Bank.Hosting.Contracts;
using Bank.Hosting.Journal;
using Bank.Hosting.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// SQLite writes go through one writer that commits whatever waits for it in one transaction: concurrent appends share
/// a transaction, a failing write fails alone, commits are durable, and the rows are the plugin's own (its replays
/// and queries read them).
/// </summary>
public sealed class SqliteGroupCommitterSpecs : IDisposable
{
    private static readonly JournalTableNames Table = new("journal", "deleted", "persistence_id", "sequence_number", "created",
        "message", "manifest", "identifier", "writer_uuid");

    private readonly TempDataDirectory _data = new();
    private readonly SqliteGroupCommitter _committer;

    public SqliteGroupCommitterSpecs()
    {
        Directory.CreateDirectory(_data.Path);
        using (var connection = new SqliteConnection(_data.Persistence.ConnectionString))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE journal (ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL,
                  deleted BIT NOT NULL, persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL, message BLOB NOT NULL,
                  manifest TEXT NULL, identifier INTEGER NULL, writer_uuid TEXT NULL);
                CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number);
                """;
            create.ExecuteNonQuery();
        }

        _committer = SqliteGroupCommitter.Acquire(_data.Persistence.ConnectionString);
    }

    public void Dispose()
    {
        _committer.Dispose();
        _data.Dispose();
    }

    [Fact]
    public async Task Appends_that_wait_while_the_writer_is_busy_go_into_one_transaction()
    {
        using var gate = new ManualResetEventSlim();
        var busy = Hold(gate);
        var before = _committer.Counts;

        var appends = Enumerable.Range(1, 200).Select(i => _committer.Append(Table, [Row($"p-{i}", 1)])).ToList();
        gate.Set();
        await busy;
        await Task.WhenAll(appends);

        var after = _committer.Counts;
        // The one that held the writer, then one for all 200.
        Assert.Equal(2, after.Transactions - before.Transactions);
        Assert.Equal(200, after.Rows - before.Rows);
        Assert.Equal(200L, Scalar("SELECT COUNT(*) FROM journal"));
    }

    [Fact]
    public async Task A_batch_holds_at_most_the_configured_rows_and_the_rest_follow_in_order()
    {
        using var gate = new ManualResetEventSlim();
        var busy = Hold(gate);
        var before = _committer.Counts;

        // 2,500 single-row appends with 1,000 rows per transaction at most: three transactions after the holding one.
        var appends = Enumerable.Range(1, 2500).Select(i => _committer.Append(Table, [Row("ordered", i)])).ToList();
        gate.Set();
        await busy;
        await Task.WhenAll(appends);

        Assert.Equal(4, _committer.Counts.Transactions - before.Transactions);
        // Commit order is queue order: ordering and sequence numbers rise together.
        Assert.Equal(0L, Scalar("""
            SELECT COUNT(*) FROM journal a JOIN journal b ON a.persistence_id = b.persistence_id
            WHERE a.persistence_id = 'ordered' AND a.ordering < b.ordering AND a.sequence_number > b.sequence_number
            """));
    }

    [Fact]
    public async Task A_write_that_fails_fails_alone_and_the_writes_grouped_with_it_are_committed()
    {
        await _committer.Append(Table, [Row("taken", 1)]);
        using var gate = new ManualResetEventSlim();
        var busy = Hold(gate);

        var before = _committer.Append(Table, [Row("before", 1), Row("before", 2)]);
        var duplicate = _committer.Append(Table, [Row("fresh", 1), Row("taken", 1)]);
        var after = _committer.Append(Table, [Row("after", 1)]);
        gate.Set();
        await busy;

        await before;
        await after;
        await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        // The failing write is atomic: its first row, valid on its own, is not there either.
        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = 'fresh'"));
        Assert.Equal(2L, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = 'before'"));
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = 'after'"));
    }

    [Fact]
    public async Task Commits_are_durable_synchronous_full_in_wal_mode()
    {
        long synchronous = -1;
        string? mode = null;
        await _committer.Execute((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "PRAGMA synchronous";
            synchronous = (long)command.ExecuteScalar()!;
            command.CommandText = "PRAGMA journal_mode";
            mode = (string)command.ExecuteScalar()!;
        });

        Assert.Equal(2L, synchronous); // FULL
        Assert.Equal("wal", mode);
    }

    [Fact]
    public void Journals_on_one_database_file_share_its_writer()
    {
        using var second = SqliteGroupCommitter.Acquire(_data.Persistence.ConnectionString);
        Assert.Same(_committer, second);
        Assert.Same(_committer, SqliteGroupCommitter.Running(_data.Persistence.ConnectionString));
    }

    [Fact]
    public async Task Other_writes_commit_with_the_journals_rows_and_their_failures_are_their_own()
    {
        var failed = _committer.Execute((_, _) => throw new InvalidOperationException("refused"));
        var appended = _committer.Append(Table, [Row("next", 1)]);

        Assert.Equal("refused", (await Assert.ThrowsAsync<InvalidOperationException>(() => failed)).Message);
        await appended;
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = 'next'"));
    }

    [Fact]
    public async Task The_recovery_reader_reads_the_highest_sequence_number_as_the_plugin_does()
    {
        await _committer.Append(Table, [Row("reader", 1), Row("reader", 2), Row("reader", 3)]);
        // A row the plugin marked deleted (it keeps the highest when older events are deleted) still counts.
        await _committer.Execute((connection, transaction) => Exec(connection, transaction,
            "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (0, 1, 'reader', 4, x'00')"));
        var reader = _committer.Reader;

        Assert.Equal(4L, await reader.HighestSequenceNr(Table, "reader", 0));
        Assert.Equal(4L, await reader.HighestSequenceNr(Table, "reader", 3));
        Assert.Equal(0L, await reader.HighestSequenceNr(Table, "reader", 4));
        Assert.Equal(0L, await reader.HighestSequenceNr(Table, "nobody", 0));
    }

    [Fact]
    public async Task The_recovery_reader_reads_the_newest_snapshot_that_the_criteria_admit()
    {
        var table = new SnapshotTableNames("snapshot", "persistence_id", "sequence_number", "created", "snapshot", "manifest", "serializer_id");
        await _committer.Execute((connection, transaction) => Exec(connection, transaction, """
            CREATE TABLE snapshot (persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL, created INTEGER NOT NULL,
              snapshot BLOB NOT NULL, manifest TEXT NOT NULL, serializer_id INTEGER NULL, PRIMARY KEY (persistence_id, sequence_number));
            INSERT INTO snapshot VALUES ('s', 10, 100, x'0A', 'm10', 7), ('s', 20, 200, x'14', 'm20', NULL), ('s', 30, 300, x'1E', 'm30', 7);
            """));
        var reader = _committer.Reader;

        var newest = await reader.LatestSnapshot(table, "s", long.MaxValue, DateTime.MaxValue.Ticks);
        Assert.Equal(("s", 30L, 300L, "m30", (int?)7), (newest!.PersistenceId, newest.SequenceNr, newest.CreatedTicks, newest.Manifest, newest.SerializerId));
        Assert.Equal(new byte[] { 0x1E }, newest.Payload);
        var bySequence = await reader.LatestSnapshot(table, "s", 25, DateTime.MaxValue.Ticks);
        Assert.Equal((20L, "m20", (int?)null), (bySequence!.SequenceNr, bySequence.Manifest, bySequence.SerializerId));
        Assert.Equal(10L, (await reader.LatestSnapshot(table, "s", long.MaxValue, 150))!.SequenceNr);
        Assert.Null(await reader.LatestSnapshot(table, "s", 5, DateTime.MaxValue.Ticks));
        Assert.Null(await reader.LatestSnapshot(table, "other", long.MaxValue, DateTime.MaxValue.Ticks));
    }

    [Fact]
    public async Task The_recovery_reader_answers_while_the_writer_holds_its_transaction()
    {
        await _committer.Append(Table, [Row("held", 1)]);
        using var gate = new ManualResetEventSlim();
        var busy = Hold(gate);

        // Through the plugin this read began its own write transaction, and waited for the writer's to end.
        var highest = _committer.Reader.HighestSequenceNr(Table, "held", 0);
        Assert.Equal(1L, await highest.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.False(busy.IsCompleted);

        gate.Set();
        await busy;
    }

    [Fact]
    public async Task The_recovery_reader_reads_events_as_the_plugins_replay_does()
    {
        await _committer.Append(Table, [Row("events", 1), Row("events", 3), Row("events", 4), Row("events", 5), Row("other", 1)]);
        // Deleted rows are not replayed (the plugin marks the highest deleted instead of removing it).
        await _committer.Execute((connection, transaction) => Exec(connection, transaction,
            "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier) VALUES (7, 1, 'events', 2, x'00', 'gone', 1)"));
        var reader = _committer.Reader;

        Assert.Equal([1L, 3, 4, 5], (await reader.Events(Table, "events", 1, long.MaxValue, 100)).Select(e => e.SequenceNr));
        Assert.Equal([3L, 4], (await reader.Events(Table, "events", 2, 4, 100)).Select(e => e.SequenceNr));
        Assert.Equal([1L, 3], (await reader.Events(Table, "events", 0, long.MaxValue, 2)).Select(e => e.SequenceNr));
        Assert.Empty(await reader.Events(Table, "nobody", 1, long.MaxValue, 100));
        var first = (await reader.Events(Table, "events", 1, 1, 1)).Single();
        Assert.Equal(("m", (int?)1, "w"), (first.Manifest, first.SerializerId, first.WriterUuid));
        Assert.Equal(new byte[] { 1, 2, 3 }, first.Payload);
    }

    [Fact]
    public async Task The_recovery_reader_reads_each_rows_own_manifest_and_writer_however_often_they_repeat()
    {
        // The reader decodes each distinct text once per read: repeated, alternating, empty, missing and non-ASCII ones.
        (string Manifest, string? Writer)[] texts =
            [("deposited", "w1"), ("withdrawn", "w1"), ("deposited", "w1"), ("", null), ("dépôt", "w2"), ("deposited", "w2"), ("withdrawn", "w1")];
        await _committer.Append(Table, [.. texts.Select((t, i) => Row("texts", i + 1) with { Manifest = t.Manifest, WriterUuid = t.Writer })]);

        var events = await _committer.Reader.Events(Table, "texts", 1, long.MaxValue, 100);

        Assert.Equal(texts, events.Select(e => (e.Manifest, e.WriterUuid)));
    }

    [Fact]
    public async Task The_recovery_reader_reads_events_while_the_writer_holds_its_transaction()
    {
        await _committer.Append(Table, [Row("replayed", 1), Row("replayed", 2)]);
        using var gate = new ManualResetEventSlim();
        var busy = Hold(gate);

        // Through the plugin a replay began its own write transaction, and waited for the writer's to end.
        var events = _committer.Reader.Events(Table, "replayed", 1, long.MaxValue, 100);
        Assert.Equal(2, (await events.WaitAsync(TimeSpan.FromSeconds(20))).Count);
        Assert.False(busy.IsCompleted);

        gate.Set();
        await busy;
    }

    [Fact]
    public async Task A_read_of_a_table_that_does_not_exist_yet_says_so()
    {
        var missing = Table with { Table = "not_yet" };
        var failure = await Assert.ThrowsAsync<SqliteException>(() => _committer.Reader.HighestSequenceNr(missing, "p", 0));
        Assert.True(SqliteRecoveryReader.IsMissingTable(failure));
        Assert.Equal(0L, await _committer.Reader.HighestSequenceNr(Table, "p", 0));
    }

    [Fact]
    public async Task The_readers_connection_is_its_own_and_leaves_the_pool_writable()
    {
        Assert.Equal(0L, await _committer.Reader.HighestSequenceNr(Table, "p", 0));
        _committer.Reader.Dispose();

        // A pooled connection taken after the reader's would have carried its query_only setting.
        using var connection = new SqliteConnection(_data.Persistence.ConnectionString);
        connection.Open();
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (0, 0, 'pooled', 1, x'00')";
        Assert.Equal(1, insert.ExecuteNonQuery());
    }

    private static void Exec(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Keeps the writer busy until <paramref name="gate"/> opens; returns once the writer is held.</summary>
    private Task Hold(ManualResetEventSlim gate)
    {
        using var held = new ManualResetEventSlim();
        var busy = _committer.Execute((_, _) =>
        {
            held.Set();
            gate.Wait(TimeSpan.FromSeconds(30));
        });
        held.Wait(TimeSpan.FromSeconds(30));
        return busy;
    }

    private static JournalEventRow Row(string persistenceId, long sequenceNr) =>
        new(persistenceId, sequenceNr, DateTime.UtcNow.Ticks, [1, 2, 3], "m", 1, "w");

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection(_data.Persistence.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}

/// <summary>The node's journal with group commit keeps Akka.Persistence's contract.</summary>
public class GroupCommitJournalSpecs(BankNodeFixture fixture) : BankNodeSpec<BankNodeFixture>(fixture)
{
    [Fact]
    public async Task Events_persisted_by_many_actors_at_once_replay_in_order_and_the_query_side_reads_them()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var writers = Enumerable.Range(0, 20).Select(i => Sys.ActorOf(Props.Create(() => new Writer($"gc-{run}-{i}")))).ToList();
        foreach (var writer in writers)
            for (var n = 1; n <= 10; n++)
                writer.Tell(new Write([$"e{n}a", $"e{n}b"]), TestActor);
        for (var i = 0; i < writers.Count * 10; i++)
            ExpectMsg<Written>(TimeSpan.FromSeconds(20));

        foreach (var writer in writers) await writer.GracefulStop(TimeSpan.FromSeconds(10));
        for (var i = 0; i < writers.Count; i++)
        {
            var again = Sys.ActorOf(Props.Create(() => new Writer($"gc-{run}-{i}")));
            again.Tell(Recovered.Instance, TestActor);
            var recovered = ExpectMsg<string[]>();
            Assert.Equal(Enumerable.Range(1, 10).SelectMany(n => new[] { $"e{n}a", $"e{n}b" }), recovered);
        }

        var journal = PersistenceQuery.Get(Sys).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var events = await journal.CurrentEventsByPersistenceId($"gc-{run}-0", 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), Sys.Materializer());
        Assert.Equal(Enumerable.Range(1, 20), events.Select(e => (int)e.SequenceNr));
    }

    [Fact]
    public void A_replay_longer_than_one_batch_of_the_reader_keeps_its_order_and_its_bounds()
    {
        // 2,500 events: the journal reads SQLite 1,000 at a time.
        var id = $"long-{Guid.NewGuid():N}";
        var writer = Sys.ActorOf(Props.Create(() => new Writer(id, null)));
        for (var batch = 0; batch < 10; batch++)
        {
            writer.Tell(new Write([.. Enumerable.Range(batch * 250 + 1, 250).Select(n => $"e{n}")]), TestActor);
            ExpectMsg<Written>(TimeSpan.FromSeconds(20));
        }

        Sys.Stop(writer);
        var all = Sys.ActorOf(Props.Create(() => new Writer(id, null)));
        all.Tell(Recovered.Instance, TestActor);
        Assert.Equal(Enumerable.Range(1, 2500).Select(n => $"e{n}"), ExpectMsg<string[]>(TimeSpan.FromSeconds(20)));

        // Up to 1,800 and at most 1,200 of them, as a Recovery asks.
        var bounded = Sys.ActorOf(Props.Create(() => new Writer(id, new Recovery(SnapshotSelectionCriteria.None, 1800, 1200))));
        bounded.Tell(Recovered.Instance, TestActor);
        Assert.Equal(Enumerable.Range(1, 1200).Select(n => $"e{n}"), ExpectMsg<string[]>(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Tagged_events_take_the_plugins_path_and_are_found_by_tag()
    {
        var id = $"tagged-{Guid.NewGuid():N}";
        var tag = $"t{Guid.NewGuid():N}"[..20];
        var writer = Sys.ActorOf(Props.Create(() => new Writer(id)));
        writer.Tell(new Write(["plain"]), TestActor);
        ExpectMsg<Written>();
        writer.Tell(new WriteTagged("tagged", tag), TestActor);
        ExpectMsg<Written>();

        var journal = PersistenceQuery.Get(Sys).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        await AwaitAssertAsync(async () =>
        {
            var byTag = await journal.CurrentEventsByTag(tag, Offset.NoOffset()).RunWith(Sink.Seq<EventEnvelope>(), Sys.Materializer());
            Assert.Equal(["tagged"], byTag.Select(e => (string)e.Event));
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void An_event_that_cannot_be_serialized_is_rejected_and_the_actor_goes_on()
    {
        var writer = Sys.ActorOf(Props.Create(() => new Writer($"reject-{Guid.NewGuid():N}")));
        writer.Tell(new WriteUnserializable(), TestActor);
        ExpectMsg<Rejected>();
        writer.Tell(new Write(["after"]), TestActor);
        ExpectMsg<Written>();
        writer.Tell(Recovered.Instance, TestActor);
        Assert.Equal(["after"], ExpectMsg<string[]>());
    }

    [Fact]
    public async Task An_actor_with_events_replays_them_while_the_writer_holds_its_transaction()
    {
        var id = $"replay-{Guid.NewGuid():N}";
        var writer = Sys.ActorOf(Props.Create(() => new Writer(id)));
        writer.Tell(new Write(["a", "b"]), TestActor);
        ExpectMsg<Written>();
        await writer.GracefulStop(TimeSpan.FromSeconds(10));

        // The journal has written, so its writer runs.
        await using var writerHeld = HeldWriter.Hold(Sys);
        // A replay once took SQLite's write lock and waited for the writer's transaction: woken (passivated) accounts
        // then queued behind the group commit and the commit behind them, and 100,000 accounts stalled. Well inside the
        // breaker's call-timeout (5 s), which would fail the recovery instead.
        var again = Sys.ActorOf(Props.Create(() => new Writer(id)));
        again.Tell(Recovered.Instance, TestActor);
        Assert.Equal(["a", "b"], ExpectMsg<string[]>(TimeSpan.FromSeconds(3)));
        Assert.True(writerHeld.StillHeld);
    }

    [Fact]
    public async Task A_query_reads_while_the_writer_holds_its_transaction()
    {
        var id = $"query-{Guid.NewGuid():N}";
        var writer = Sys.ActorOf(Props.Create(() => new Writer(id)));
        writer.Tell(new Write(["a", "b"]), TestActor);
        ExpectMsg<Written>();

        await using var writerHeld = HeldWriter.Hold(Sys);
        // The plugin's own reads (queries, and replays where it still does them) begin a transaction: on SQLite a
        // deferred one (read-uncommitted), which reads the last commit instead of waiting for the writer's lock.
        var journal = PersistenceQuery.Get(Sys).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var events = await journal.CurrentEventsByPersistenceId(id, 0, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(["a", "b"], events.Select(e => (string)e.Event));
        Assert.True(writerHeld.StillHeld);
    }

    [Fact]
    public async Task The_feed_follows_the_commits_in_order_and_reads_back_a_row_written_around_the_writer()
    {
        var database = StateStore.BankDatabase.For(Sys).Options;
        var id = $"feed-{Guid.NewGuid():N}";
        var (writer, head) = WriterWithOneEvent(id);
        var seen = new List<CommittedEvent>();
        using var stop = new CancellationTokenSource();
        var following = FollowAsync(head, TimeSpan.FromMilliseconds(50), 20_000, null, seen, stop.Token);

        writer.Tell(new Write(["one"]), TestActor);
        ExpectMsg<Written>();
        // A row the writer never saw (as a tagged event, or another tool, would write): the feed finds it by its ordering.
        var serializer = Sys.Serialization.FindSerializerFor("two");
        Execute(database.ConnectionString,
            "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier) VALUES (1, 0, $p, 1, $m, $f, $i)",
            ("$p", $"{id}-side"), ("$m", serializer.ToBinary("two")), ("$f", Akka.Serialization.Serialization.ManifestFor(serializer, "two")),
            ("$i", serializer.Identifier));
        writer.Tell(new Write(["three"]), TestActor);
        ExpectMsg<Written>();

        await AwaitAssertAsync(() =>
        {
            if (following.IsFaulted) throw following.Exception!;
            lock (seen)
            {
                Assert.Equal(["one", "two", "three"], seen.Where(e => e.PersistenceId.StartsWith(id, StringComparison.Ordinal)).Select(e => (string)e.Payload!));
                // Every ordering once, none missing, in order.
                Assert.Equal(Enumerable.Range((int)head + 1, seen.Count).Select(o => (long)o), seen.Select(e => e.Ordering));
            }
        }, TimeSpan.FromSeconds(10));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => following);
    }

    [Fact]
    public async Task A_feed_whose_reader_falls_behind_its_capacity_reads_what_it_missed_from_the_table()
    {
        var id = $"behind-{Guid.NewGuid():N}";
        var (writer, head) = WriterWithOneEvent(id);
        var seen = new List<CommittedEvent>();
        using var stop = new CancellationTokenSource();
        // Room for two events, taken once a second: the commits below overflow it before the reader comes.
        var following = FollowAsync(head, TimeSpan.FromSeconds(1), 1000, 2, seen, stop.Token);

        string[] written = ["one", "two", "three", "four", "five"];
        foreach (var text in written)
        {
            writer.Tell(new Write([text]), TestActor);
            ExpectMsg<Written>();
        }

        await AwaitAssertAsync(() =>
        {
            if (following.IsFaulted) throw following.Exception!;
            lock (seen)
            {
                Assert.Equal(written, seen.Where(e => e.PersistenceId == id).Select(e => (string)e.Payload!));
                Assert.Equal(Enumerable.Range((int)head + 1, seen.Count).Select(o => (long)o), seen.Select(e => e.Ordering));
            }
        }, TimeSpan.FromSeconds(10));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => following);
    }

    /// <summary>A writer of its own persistence id that has written one event, and the journal's head after it.</summary>
    private (IActorRef Writer, long Head) WriterWithOneEvent(string id)
    {
        var writer = Sys.ActorOf(Props.Create(() => new Writer(id)));
        writer.Tell(new Write(["zero"]), TestActor);
        ExpectMsg<Written>();
        return (writer, Scalar(StateStore.BankDatabase.For(Sys).Options.ConnectionString, "SELECT MAX(ordering) FROM journal"));
    }

    /// <summary>Follows the journal's feed after <paramref name="head"/>, adding what it hands over to <paramref name="seen"/>.</summary>
    private Task FollowAsync(long head, TimeSpan window, int chunk, int? capacity, List<CommittedEvent> seen, CancellationToken stop)
    {
        var database = StateStore.BankDatabase.For(Sys).Options;
        // The journal has written, so its writer runs.
        var committer = SqliteGroupCommitter.Running(database.ConnectionString)!;
        var table = GroupCommitSqlJournal.TableNames(Sys.Settings.Config);
        return Task.Run(async () =>
        {
            await foreach (var part in StateStore.SqliteJournalFeed.Follow((ExtendedActorSystem)Sys, committer, database.ConnectionString, table,
                               head, _ => true, window, chunk, capacity, stop))
                lock (seen) seen.AddRange(part);
        });
    }

    private static long Scalar(string connectionString, string sql)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }

    private sealed record Write(string[] Events);

    private sealed record WriteTagged(string Event, string Tag);

    private sealed record WriteUnserializable;

    private sealed record Written;

    /// <summary>The node's SQLite writer kept inside a transaction of its own until disposed.</summary>
    private sealed class HeldWriter : IAsyncDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private readonly Task _busy;

        private HeldWriter(ActorSystem system)
        {
            var committer = SqliteGroupCommitter.Running(StateStore.BankDatabase.For(system).Options.ConnectionString)!;
            using var held = new ManualResetEventSlim();
            _busy = committer.Execute((_, _) =>
            {
                held.Set();
                _gate.Wait(TimeSpan.FromSeconds(30));
            });
            Assert.True(held.Wait(TimeSpan.FromSeconds(30)), "the writer was not held");
        }

        /// <summary>Returns once the writer is in its transaction.</summary>
        public static HeldWriter Hold(ActorSystem system) => new(system);

        public bool StillHeld => !_busy.IsCompleted;

        public async ValueTask DisposeAsync()
        {
            _gate.Set();
            await _busy;
            _gate.Dispose();
        }
    }

    private sealed record Rejected;

    private sealed class Recovered
    {
        public static readonly Recovered Instance = new();
    }

    /// <summary>An event no serializer can write.</summary>
    public sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException("cannot be read");
    }

    private sealed class Writer : ReceivePersistentActor
    {
        private readonly List<string> _events = [];
        private IActorRef? _rejectTo;
        private readonly Recovery? _recovery;

        public Writer(string persistenceId) : this(persistenceId, null)
        {
        }

        public Writer(string persistenceId, Recovery? recovery)
        {
            PersistenceId = persistenceId;
            _recovery = recovery;
            Recover<string>(e => _events.Add(e));
            Command<Write>(write =>
            {
                var sender = Sender;
                var left = write.Events.Length;
                PersistAll(write.Events, e =>
                {
                    _events.Add(e);
                    if (--left == 0) sender.Tell(new Written());
                });
            });
            Command<WriteTagged>(write =>
            {
                var sender = Sender;
                Persist(new Tagged(write.Event, [write.Tag]), _ =>
                {
                    _events.Add(write.Event);
                    sender.Tell(new Written());
                });
            });
            Command<WriteUnserializable>(_ =>
            {
                _rejectTo = Sender;
                Persist(new Unserializable(), _ => { });
            });
            Command<Recovered>(_ => Sender.Tell(_events.ToArray()));
        }

        public override string PersistenceId { get; }

        public override Recovery Recovery => _recovery ?? base.Recovery;

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) =>
            _rejectTo?.Tell(new Rejected());
    }
}
