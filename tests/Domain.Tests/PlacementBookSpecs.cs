using Xunit;

namespace Bank.Domain.Tests;

/// <summary>The placement coordinator's decisions as a pure model: nodes, reservations, waiting, moving; time given.</summary>
public sealed class PlacementBookSpecs
{
    // Monotonic readings (elapsed since the coordinator started), as the book takes them.
    private static readonly TimeSpan Now = TimeSpan.FromHours(3);
    private static readonly TimeSpan PendingTimeout = TimeSpan.FromSeconds(30);
    private const string CpuNode = "akka.tcp://bank@127.0.0.1:1";
    private const string GpuNode = "akka.tcp://bank@127.0.0.1:2";
    private const string OtherGpuNode = "akka.tcp://bank@127.0.0.1:3";
    private static readonly ResourceSet Cpus = Parse("cpu=4,gpu=0,memory=8GiB");
    private static readonly ResourceSet Gpus = Parse("cpu=4,gpu=4,memory=8GiB");

    private static ResourceSet Parse(string text) => ResourceSet.TryParse(text, out var set, out var error) ? set : throw new ArgumentException(error);

    private static PlacementNodes Cluster(params string[] up) =>
        new(up.ToHashSet(StringComparer.Ordinal), up.ToHashSet(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));

    private static Reservation Open(string id, ResourceSet resources, TimeSpan? since = null) =>
        new(id, $"actor-{id}", $"key-{id}", resources, null, since ?? Now, IsOpen: true);

    private static PlacementBook Book(PlacementNodes nodes, params (string Node, ResourceSet Resources)[] reports) =>
        reports.Aggregate(PlacementBook.Empty, (book, r) => book.Reported(r.Node, r.Resources, nodes));

    [Fact]
    public void An_open_asked_again_keeps_its_node_and_holds_its_resources_once()
    {
        var nodes = Cluster(GpuNode, OtherGpuNode);
        var book = Book(nodes, (GpuNode, Gpus), (OtherGpuNode, Gpus));
        (book, var first) = book.Place(Open("a", Placement.Request(numGpus: 3)), nodes);
        var node = Assert.IsType<OpenPlacedOn>(first).Node;

        (book, var again) = book.Place(Open("a", Placement.Request(numGpus: 3)), nodes);

        Assert.Equal(new OpenPlacedOn("a", node), again);
        Assert.Equal(3m, book.Used(node)[ResourceSet.Gpu]);
        Assert.Equal(0m, book.Used(node == GpuNode ? OtherGpuNode : GpuNode)[ResourceSet.Gpu]);
    }

    [Fact]
    public void A_move_the_registry_did_not_record_is_placed_and_reported_as_a_move_again()
    {
        var nodes = Cluster(GpuNode, OtherGpuNode);
        var book = Book(nodes, (GpuNode, Gpus), (OtherGpuNode, Gpus));
        book = book.Reserved(new Reservation("a", "actor-a", "key-a", Placement.Request(numGpus: 1), GpuNode, Now, IsOpen: false));
        (book, var moved) = book.Where("key-a", "a", leaving: GpuNode, nodes, Now);
        Assert.Equal(new RunsOn(OtherGpuNode, Moved: true), moved);

        (book, var asked) = book.MoveNotRecorded("a").Where("key-a", "a", leaving: null, nodes, Now);

        Assert.Equal(new RunsOn(OtherGpuNode, Moved: true), asked);
    }

    [Fact]
    public void An_open_is_placed_on_a_node_that_has_its_resources_free_and_holds_them_there()
    {
        var nodes = Cluster(CpuNode, GpuNode);
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Gpus));

        (book, var placed) = book.Place(Open("a", Placement.Request(numGpus: 1)), nodes);

        Assert.Equal(new OpenPlacedOn("a", GpuNode), placed);
        Assert.Equal((1m, 1m), (book.Used(GpuNode)[ResourceSet.Gpu], book.Used(GpuNode)[ResourceSet.Cpu]));
        Assert.True(book.Used(CpuNode).IsEmpty);
    }

    [Fact]
    public void Concurrent_opens_never_over_commit_a_node_and_those_left_over_wait()
    {
        var nodes = Cluster(CpuNode, GpuNode);
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Parse("cpu=16,gpu=4,memory=8GiB")));
        var placed = 0;

        for (var i = 0; i < 12; i++)
        {
            (book, var outcome) = book.Place(Open($"half-{i}", Placement.Request(numGpus: 0.5m)), nodes);
            if (outcome is not null) placed++;
        }

        Assert.Equal(8, placed);
        Assert.Equal(4m, book.Used(GpuNode)[ResourceSet.Gpu]);
        var (held, waiting) = book.Held(nodes);
        Assert.Equal((8, 4), (held.Single(n => n.Node == GpuNode).Placed, waiting));
    }

    [Fact]
    public void An_open_waits_until_a_node_that_fits_reports_then_it_is_placed_there()
    {
        var nodes = Cluster(CpuNode);
        var book = Book(nodes, (CpuNode, Cpus));
        (book, var placed) = book.Place(Open("trainer", Placement.Request(numGpus: 4)), nodes);
        Assert.Null(placed);
        Assert.True(book.IsWaiting("trainer"));

        nodes = Cluster(CpuNode, GpuNode);
        Assert.Equal([GpuNode], book.Unreported(nodes));
        book = book.Reported(GpuNode, Gpus, nodes);
        (book, var outcomes) = book.Retry(nodes, Now + TimeSpan.FromSeconds(5), PendingTimeout);

        Assert.Equal([new OpenPlacedOn("trainer", GpuNode)], outcomes);
        Assert.False(book.IsWaiting("trainer"));
    }

    [Fact]
    public void A_report_from_a_node_that_is_not_up_is_ignored()
    {
        var book = PlacementBook.Empty.Reported(GpuNode, Gpus, Cluster(CpuNode));

        Assert.Empty(book.Capacities);
    }

    [Fact]
    public void An_open_no_node_fits_fails_after_the_pending_timeout_naming_the_request_and_the_largest_free_capacity()
    {
        var nodes = Cluster(CpuNode, GpuNode);
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Gpus));
        (book, _) = book.Place(Open("greedy", Placement.Request(numGpus: 8)), nodes);

        Assert.Empty(book.Retry(nodes, Now + TimeSpan.FromSeconds(29), PendingTimeout).Outcomes);
        (book, var outcomes) = book.Retry(nodes, Now + TimeSpan.FromSeconds(30), PendingTimeout);

        var failed = Assert.IsType<OpenUnplaceable>(Assert.Single(outcomes));
        Assert.Contains("no node has the resources for actor 'actor-greedy' (num_cpus=1, num_gpus=8)", failed.Reason);
        Assert.Contains($"gpu=4 on {GpuNode}", failed.Reason);
        Assert.Empty(book.Reservations);
    }

    [Fact]
    public void A_released_reservation_frees_its_resources_for_the_next_open()
    {
        var nodes = Cluster(GpuNode);
        var book = Book(nodes, (GpuNode, Gpus));
        (book, _) = book.Place(Open("a", Placement.Request(numGpus: 4)), nodes);
        (book, var refused) = book.Place(Open("b", Placement.Request(numGpus: 1)), nodes);
        Assert.Null(refused);

        book = book.Released("a");
        (book, var outcomes) = book.Retry(nodes, Now, PendingTimeout);

        Assert.Equal([new OpenPlacedOn("b", GpuNode)], outcomes);
        Assert.Equal(1m, book.Used(GpuNode)[ResourceSet.Gpu]);
    }

    [Fact]
    public void When_a_node_leaves_its_actors_wait_and_move_only_to_a_node_that_fits_and_exactly_as_many_as_fit()
    {
        var nodes = Cluster(CpuNode, GpuNode);
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Gpus));
        (book, _) = book.Place(Open("first", Placement.Request(numGpus: 1)), nodes);
        (book, _) = book.Place(Open("second", Placement.Request(numGpus: 1)), nodes);

        nodes = Cluster(CpuNode, OtherGpuNode);
        (book, var lost) = book.MembersChanged(nodes, Now + TimeSpan.FromMinutes(1));
        Assert.Equal([new ActorUnplaced("first"), new ActorUnplaced("second")], lost.OrderBy(o => o.Id));
        Assert.DoesNotContain(GpuNode, book.Capacities.Keys);
        Assert.Empty(book.Retry(nodes, Now + TimeSpan.FromHours(1), PendingTimeout).Outcomes);

        book = book.Reported(OtherGpuNode, Parse("cpu=4,gpu=1,memory=8GiB"), nodes);
        (book, var outcomes) = book.Retry(nodes, Now + TimeSpan.FromHours(1), PendingTimeout);

        var moved = Assert.IsType<ActorMovedTo>(Assert.Single(outcomes));
        Assert.Equal(OtherGpuNode, moved.Node);
        Assert.Equal(1, book.Held(nodes).Waiting);
    }

    [Fact]
    public void An_account_runs_where_it_is_placed_and_is_placed_again_when_its_node_is_leaving()
    {
        var nodes = Cluster(CpuNode, GpuNode, OtherGpuNode);
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Gpus), (OtherGpuNode, Gpus));
        (book, var placed) = book.Place(Open("model", Placement.Request(numGpus: 2)), nodes);
        var first = ((OpenPlacedOn)placed!).Node;
        var other = first == GpuNode ? OtherGpuNode : GpuNode;

        Assert.Equal(new RunsOn(first, Moved: false), book.Where("key-model", "model", null, nodes, Now).Answer);
        (book, var answer) = book.Where("key-model", "model", leaving: first, nodes, Now);

        Assert.Equal(new RunsOn(other, Moved: true), answer);
        Assert.Contains(first, book.Departing);
        Assert.Equal(0m, book.Used(first)[ResourceSet.Gpu]);
    }

    [Fact]
    public void An_account_whose_node_is_gone_and_that_no_node_fits_waits_since_it_lost_its_node()
    {
        var nodes = Cluster(CpuNode, GpuNode);
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Gpus));
        (book, _) = book.Place(Open("stranded", Placement.Request(numGpus: 2)), nodes);

        (book, var answer) = book.Where("key-stranded", "stranded", null, Cluster(CpuNode), Now + TimeSpan.FromMinutes(1));

        var waits = Assert.IsType<WaitsForNode>(answer);
        Assert.Equal(TimeSpan.Zero, waits.Waited);
        Assert.Contains("no node has the resources for actor 'actor-stranded' (num_cpus=1, num_gpus=2)", waits.Reason);
        Assert.True(book.IsWaiting("stranded"));
    }

    [Fact]
    public void An_incarnation_the_book_does_not_hold_or_of_another_key_runs_anywhere()
    {
        var nodes = Cluster(GpuNode);
        var (book, _) = Book(nodes, (GpuNode, Gpus)).Place(Open("a", Placement.Request(numGpus: 1)), nodes);

        Assert.IsType<RunsAnywhere>(book.Where("key-a", "unknown", null, nodes, Now).Answer);
        Assert.IsType<RunsAnywhere>(book.Where("other-key", "a", null, nodes, Now).Answer);
    }

    [Fact]
    public void Unreachable_and_departing_nodes_take_no_new_placement()
    {
        var up = new HashSet<string>([CpuNode, GpuNode, OtherGpuNode], StringComparer.Ordinal);
        var nodes = new PlacementNodes(up, up, new HashSet<string>([OtherGpuNode], StringComparer.Ordinal));
        var book = Book(nodes, (CpuNode, Cpus), (GpuNode, Gpus), (OtherGpuNode, Gpus));
        (book, _) = book.Where("k", "nobody", leaving: GpuNode, nodes, Now);

        Assert.Equal([CpuNode], book.Candidates(nodes).Select(c => c.Node));
    }

    [Fact]
    public void A_rebuilt_book_holds_what_the_registry_says_and_keeps_what_the_nodes_reported()
    {
        var nodes = Cluster(GpuNode);
        var (book, _) = Book(nodes, (GpuNode, Gpus)).Place(Open("lost-in-failover", Placement.Request(numGpus: 4)), nodes);

        book = book.Rebuilt([new Reservation("live", "Live", "k", Placement.Request(numGpus: 1), GpuNode, Now, IsOpen: false)]);

        Assert.Equal(["live"], book.Reservations.Keys);
        Assert.Equal(1m, book.Used(GpuNode)[ResourceSet.Gpu]);
        Assert.Equal(Gpus, book.Capacities[GpuNode]);
    }
}
