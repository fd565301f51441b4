using Bank.Domain;
using Xunit;

namespace Bank.Domain.Tests;

/// <summary>
/// Issue 5: what an actor holds for Ray's num_cpus, num_gpus, memory and custom resources, which requests are refused,
/// and on which node an actor is placed.
/// </summary>
public sealed class PlacementSpecs
{
    private const decimal MiB = 1024m * 1024;
    private const decimal GiB = 1024m * MiB;
    private const string NodeA = "akka.tcp://bank@127.0.0.1:4053";
    private const string NodeB = "akka.tcp://bank@127.0.0.1:4054";
    private const string NodeC = "akka.tcp://bank@127.0.0.1:4055";

    private static ResourceSet Set(string text)
    {
        Assert.True(ResourceSet.TryParse(text, out var set, out var error), error);
        return set;
    }

    private static NodeCapacity Node(string address, string total, string? used = null) =>
        new(address, Set(total), used is null ? ResourceSet.Empty : Set(used));

    // ---- Request: what an actor holds ----

    [Fact]
    public void An_actor_that_asks_for_nothing_holds_nothing()
    {
        var request = Placement.Request();

        Assert.True(request.IsEmpty);
        Assert.Null(request.ToAmounts());
    }

    [Fact]
    public void An_actor_that_asks_only_for_GPUs_also_holds_one_CPU()
    {
        Assert.Equal("cpu=1, gpu=0.5", Placement.Request(numGpus: 0.5m).ToString());
    }

    [Fact]
    public void An_actor_that_asks_only_for_memory_also_holds_one_CPU()
    {
        Assert.Equal("cpu=1, memory=500MiB", Placement.Request(memory: 500 * MiB).ToString());
    }

    [Fact]
    public void An_explicit_num_cpus_of_zero_holds_no_CPU()
    {
        var request = Placement.Request(numCpus: 0m, numGpus: 1m);

        Assert.Equal("cpu=0, gpu=1", request.ToString());
        Assert.Equal(0m, request[ResourceSet.Cpu]);
    }

    [Fact]
    public void An_explicit_num_cpus_is_held_as_asked()
    {
        Assert.Equal("cpu=0.25, gpu=2", Placement.Request(numCpus: 0.25m, numGpus: 2m).ToString());
    }

    [Fact]
    public void A_custom_resource_is_held_by_name_with_one_CPU()
    {
        var request = Placement.Request(custom: new Dictionary<string, decimal> { ["accelerator_x"] = 1m });

        Assert.Equal((1m, 1m, 2), (request["accelerator_x"], request[ResourceSet.Cpu], request.Amounts.Count));
    }

    [Fact]
    public void An_account_journals_the_resources_of_its_incarnation_and_a_reopen_without_any_holds_none()
    {
        var gpu = Placement.Request(numGpus: 1m).ToAmounts();
        var opened = AccountState.Empty.Apply(Single(AccountState.Empty.Decide(new OpenAccount(10m, 0m, "first", Resources: gpu))));
        Assert.Equal(1m, opened.Resources![ResourceSet.Gpu]);

        var reopened = opened.Apply(Single(opened.Decide(new OpenAccount(10m, 0m, "second"))));

        Assert.Equal(("second", (IReadOnlyDictionary<string, decimal>?)null), (reopened.Incarnation, reopened.Resources));
    }

    [Fact]
    public void A_reopen_that_asks_for_resources_holds_them_with_the_restored_balance()
    {
        var opened = AccountState.Empty.Apply(Single(AccountState.Empty.Decide(new OpenAccount(25m, 0m, "first"))));

        var reopened = opened.Apply(Single(opened.Decide(
            new OpenAccount(10m, 0m, "second", Resources: Placement.Request(numGpus: 0.5m).ToAmounts()))));

        Assert.Equal((25m, "cpu=1, gpu=0.5"), (reopened.Balance, ResourceSet.From(reopened.Resources).ToString()));
    }

    private static IAccountEvent Single(Decision decision)
    {
        Assert.Null(decision.Violation);
        return Assert.Single(decision.Events);
    }

    // ---- Validate: requests that are refused, in one line ----

    [Theory]
    [InlineData(null, "-1", null, "num_gpus must be from 0 to 1000000000, not -1")]
    [InlineData("-0.5", null, null, "num_cpus must be from 0 to 1000000000, not -0.5")]
    [InlineData("1000000001", null, null, "num_cpus must be from 0 to 1000000000, not 1000000001")]
    [InlineData(null, "0.00001", null, "num_gpus takes at most 4 decimal places (Ray's 0.0001), not 0.00001")]
    [InlineData("0.12345", null, null, "num_cpus takes at most 4 decimal places (Ray's 0.0001), not 0.12345")]
    [InlineData(null, "1.5", null, "num_gpus above 1 must be a whole number (as in Ray), not 1.5")]
    [InlineData("2.25", null, null, "num_cpus above 1 must be a whole number (as in Ray), not 2.25")]
    [InlineData(null, null, "1.5", "memory must be a whole number of bytes from 0 to 1PiB, not 1.5")]
    [InlineData(null, null, "-1", "memory must be a whole number of bytes from 0 to 1PiB, not -1")]
    [InlineData(null, null, "1125899906842625", "memory must be a whole number of bytes from 0 to 1PiB, not 1125899906842625")]
    public void Amounts_that_Ray_would_refuse_are_refused_with_one_line(string? numCpus, string? numGpus, string? memory, string error)
    {
        var request = Placement.Request(Amount(numCpus), Amount(numGpus), Amount(memory));

        Assert.Equal(error, Placement.Validate(request));
    }

    [Theory]
    [InlineData(null, "0.0001", null)]
    [InlineData("0", "1", null)]
    [InlineData("0.5", "0.9999", null)]
    [InlineData("1000000000", "8", "1125899906842624")]
    [InlineData(null, null, "0")]
    public void Amounts_at_the_edges_of_what_Ray_takes_are_accepted(string? numCpus, string? numGpus, string? memory)
    {
        Assert.Null(Placement.Validate(Placement.Request(Amount(numCpus), Amount(numGpus), Amount(memory))));
    }

    [Theory]
    [InlineData("Accelerator", "resource name 'Accelerator' is not valid: use lower-case letters, digits and '_' (e.g. accelerator_x)")]
    [InlineData("9lives", "resource name '9lives' is not valid: use lower-case letters, digits and '_' (e.g. accelerator_x)")]
    [InlineData("tpu-v4", "resource name 'tpu-v4' is not valid: use lower-case letters, digits and '_' (e.g. accelerator_x)")]
    [InlineData("", "resource name '' is not valid: use lower-case letters, digits and '_' (e.g. accelerator_x)")]
    public void Custom_resource_names_must_be_lower_case_identifiers(string name, string error)
    {
        var request = Placement.Request(custom: new Dictionary<string, decimal> { [name] = 1m });

        Assert.Equal(error, Placement.Validate(request));
    }

    [Fact]
    public void A_custom_resource_amount_is_checked_under_its_own_name()
    {
        var request = Placement.Request(custom: new Dictionary<string, decimal> { ["accelerator_x"] = 2.5m });

        Assert.Equal("accelerator_x above 1 must be a whole number (as in Ray), not 2.5", Placement.Validate(request));
    }

    [Fact]
    public void A_name_with_a_line_break_is_echoed_on_one_line()
    {
        var request = Placement.Request(custom: new Dictionary<string, decimal> { ["bad\nname"] = 1m });

        var error = Placement.Validate(request);

        Assert.NotNull(error);
        Assert.DoesNotContain('\n', error);
    }

    // ---- Choose: where an actor is placed ----

    [Fact]
    public void An_actor_is_placed_only_where_its_whole_request_is_free()
    {
        var nodes = new[]
        {
            Node(NodeA, "cpu=4,gpu=4,memory=8GiB", used: "cpu=1,gpu=3"),
            Node(NodeB, "cpu=4,gpu=4,memory=1GiB"),
            Node(NodeC, "cpu=4,gpu=4,memory=8GiB", used: "cpu=2,gpu=2"),
        };

        // A has 1 GPU free, B has too little memory: only C has 2 GPUs and 2 GiB free.
        Assert.Equal(NodeC, Placement.Choose(nodes, Placement.Request(numGpus: 2m, memory: 2 * GiB)));
    }

    [Fact]
    public void A_request_that_exactly_fills_a_node_fits()
    {
        var nodes = new[] { Node(NodeA, "cpu=4,gpu=4", used: "cpu=2,gpu=3.5") };

        Assert.Equal(NodeA, Placement.Choose(nodes, Placement.Request(numCpus: 2m, numGpus: 0.5m)));
        Assert.Null(Placement.Choose(nodes, Placement.Request(numCpus: 2.0001m, numGpus: 0.5m)));
        Assert.Null(Placement.Choose(nodes, Placement.Request(numCpus: 2m, numGpus: 0.5001m)));
    }

    [Fact]
    public void Fractions_add_up_to_a_whole_GPU_without_rounding()
    {
        // Three actors of 0.3333 GPU leave 0.0001 free on a 1-GPU node: exactly one more of 0.0001 fits.
        var node = Node(NodeA, "cpu=8,gpu=1", used: "cpu=3,gpu=0.9999");

        Assert.Equal(NodeA, Placement.Choose([node], Placement.Request(numGpus: 0.0001m)));
        Assert.Null(Placement.Choose([node], Placement.Request(numGpus: 0.0002m)));
    }

    [Fact]
    public void A_custom_resource_fits_only_on_a_node_that_advertises_it()
    {
        var nodes = new[] { Node(NodeA, "cpu=16,gpu=8"), Node(NodeB, "cpu=1,accelerator_x=1") };
        var request = Placement.Request(custom: new Dictionary<string, decimal> { ["accelerator_x"] = 1m });

        Assert.Equal(NodeB, Placement.Choose(nodes, request));
    }

    [Fact]
    public void An_actor_that_asks_for_no_GPU_goes_to_a_node_without_GPUs_even_a_busier_one()
    {
        var nodes = new[]
        {
            Node(NodeA, "cpu=8,gpu=4,memory=8GiB"),
            Node(NodeB, "cpu=4,gpu=0,memory=8GiB", used: "cpu=3"),
        };

        Assert.Equal(NodeB, Placement.Choose(nodes, Placement.Request(numCpus: 1m)));
        Assert.Equal(NodeB, Placement.Choose(nodes, Placement.Request(memory: 1 * GiB)));
    }

    [Fact]
    public void An_actor_that_asks_for_no_GPU_takes_a_GPU_node_when_no_other_fits()
    {
        var nodes = new[]
        {
            Node(NodeA, "cpu=8,gpu=4"),
            Node(NodeB, "cpu=4,gpu=0", used: "cpu=4"),
        };

        Assert.Equal(NodeA, Placement.Choose(nodes, Placement.Request(numCpus: 1m)));
    }

    [Fact]
    public void A_GPU_actor_goes_to_the_node_it_would_fill_least()
    {
        var nodes = new[]
        {
            // After placing 1 GPU: A would be 4/4 full, B 5/8, C 3/4.
            Node(NodeA, "cpu=16,gpu=4", used: "gpu=3"),
            Node(NodeB, "cpu=16,gpu=8", used: "gpu=4"),
            Node(NodeC, "cpu=16,gpu=4", used: "gpu=2"),
        };

        Assert.Equal(NodeB, Placement.Choose(nodes, Placement.Request(numGpus: 1m)));
    }

    [Fact]
    public void The_fullest_resource_decides_how_filled_a_node_would_be()
    {
        var nodes = new[]
        {
            // GPUs: A 1/4 after, B 3/4 after; CPUs: A 4/4 after, B 1/4 after. B is the less filled at its fullest.
            Node(NodeA, "cpu=4,gpu=4", used: "cpu=3"),
            Node(NodeB, "cpu=4,gpu=4", used: "gpu=2"),
        };

        Assert.Equal(NodeB, Placement.Choose(nodes, Placement.Request(numGpus: 1m)));
    }

    [Fact]
    public void Between_equally_filled_nodes_the_lowest_address_wins_whatever_their_order()
    {
        var nodes = new[] { Node(NodeC, "cpu=4,gpu=4"), Node(NodeA, "cpu=4,gpu=4"), Node(NodeB, "cpu=4,gpu=4") };
        var request = Placement.Request(numGpus: 1m);

        Assert.Equal(NodeA, Placement.Choose(nodes, request));
        Assert.Equal(NodeA, Placement.Choose(nodes.Reverse(), request));
    }

    [Fact]
    public void No_node_is_chosen_when_none_has_the_request_free()
    {
        var nodes = new[] { Node(NodeA, "cpu=4,gpu=0"), Node(NodeB, "cpu=4,gpu=4", used: "gpu=4") };

        Assert.Null(Placement.Choose(nodes, Placement.Request(numGpus: 1m)));
        Assert.Null(Placement.Choose([], Placement.Request(numGpus: 1m)));
    }

    [Fact]
    public void A_node_whose_reservations_exceed_its_total_takes_nothing_more()
    {
        // Over-committed (it should never be, but a node that came back smaller could be): even 0 GPUs with 1 CPU fits nowhere.
        var node = Node(NodeA, "cpu=2,gpu=1", used: "cpu=3,gpu=2");

        Assert.Null(Placement.Choose([node], Placement.Request(numCpus: 1m)));
        Assert.Equal("cpu=-1, gpu=-1", node.Free.ToString());
    }

    // ---- NoNodeFits and Describe: what the user reads ----

    [Fact]
    public void The_reason_no_node_fits_names_the_request_and_the_largest_free_amount_of_each_resource_and_where()
    {
        var nodes = new[]
        {
            Node(NodeA, "cpu=4,gpu=0,memory=8GiB", used: "cpu=1"),
            Node(NodeB, "cpu=4,gpu=4,memory=8GiB", used: "cpu=0,gpu=1"),
        };
        var request = Placement.Request(numGpus: 8m, memory: 500 * MiB);

        var reason = Placement.NoNodeFits("trainer", request, nodes, TimeSpan.FromSeconds(30));

        Assert.Equal(
            "no node has the resources for actor 'trainer' (num_cpus=1, num_gpus=8, memory=500MiB) after 30 s: "
            + $"the largest free capacity is cpu=4 on {NodeB}, gpu=3 on {NodeB}, memory=8GiB on {NodeA}",
            reason);
    }

    [Fact]
    public void Without_nodes_the_reason_says_there_is_none()
    {
        var reason = Placement.NoNodeFits("trainer", Placement.Request(numGpus: 1m), [], TimeSpan.FromSeconds(2.5));

        Assert.Equal(
            "no node has the resources for actor 'trainer' (num_cpus=1, num_gpus=1) after 2.5 s: "
            + "there is no node with resources in the cluster",
            reason);
    }

    [Fact]
    public void A_resource_no_node_advertises_shows_as_zero_free()
    {
        var request = Placement.Request(custom: new Dictionary<string, decimal> { ["accelerator_x"] = 1m });

        var reason = Placement.NoNodeFits("x", request, [Node(NodeA, "cpu=4,gpu=0")], TimeSpan.FromSeconds(1));

        Assert.EndsWith($"the largest free capacity is accelerator_x=0 on {NodeA}, cpu=4 on {NodeA}", reason);
    }

    [Fact]
    public void An_over_committed_node_shows_no_negative_free_amount()
    {
        var reason = Placement.NoNodeFits("x", Placement.Request(numGpus: 1m), [Node(NodeA, "cpu=4,gpu=1", used: "gpu=2")],
            TimeSpan.FromSeconds(1));

        Assert.EndsWith($"the largest free capacity is cpu=4 on {NodeA}, gpu=0 on {NodeA}", reason);
    }

    [Fact]
    public void A_request_is_described_as_Rays_options_cpu_gpu_memory_then_custom_ones()
    {
        var request = Placement.Request(numCpus: 0.5m, numGpus: 1m, memory: 1.5m * GiB,
            custom: new Dictionary<string, decimal> { ["zeta"] = 2m, ["accelerator_x"] = 1m });

        Assert.Equal("num_cpus=0.5, num_gpus=1, memory=1.5GiB, accelerator_x=1, zeta=2", Placement.Describe(request));
    }

    [Fact]
    public void A_request_for_nothing_is_described_as_Ray_places_it()
    {
        Assert.Equal("no resources (num_cpus=1 to be placed, 0 while running)", Placement.Describe(Placement.Request()));
    }

    // ---- ResourceSet arithmetic ----

    [Fact]
    public void Plus_adds_every_amount_and_keeps_names_of_both()
    {
        var sum = Set("cpu=1,gpu=0.5").Plus(Set("gpu=0.25,memory=1024,accelerator_x=1"));

        Assert.Equal("accelerator_x=1, cpu=1, gpu=0.75, memory=1KiB", sum.ToString());
    }

    [Fact]
    public void Minus_subtracts_and_a_name_only_in_the_subtrahend_goes_negative()
    {
        var rest = Set("cpu=4,gpu=4").Minus(Set("gpu=1.5,accelerator_x=1"));

        Assert.Equal((4m, 2.5m, -1m), (rest[ResourceSet.Cpu], rest[ResourceSet.Gpu], rest["accelerator_x"]));
    }

    [Fact]
    public void Plus_then_minus_gives_back_what_was_there()
    {
        var used = Set("cpu=1,gpu=0.3333");

        var back = used.Plus(Set("cpu=2,gpu=0.6667")).Minus(Set("cpu=2,gpu=0.6667"));

        Assert.Equal((1m, 0.3333m), (back[ResourceSet.Cpu], back[ResourceSet.Gpu]));
    }

    [Fact]
    public void Covers_needs_every_requested_amount_and_counts_a_missing_name_as_zero()
    {
        var free = Set("cpu=2,gpu=1");

        Assert.True(free.Covers(Set("cpu=2,gpu=1")));
        Assert.True(free.Covers(Set("cpu=1,accelerator_x=0")));
        Assert.True(free.Covers(ResourceSet.Empty));
        Assert.False(free.Covers(Set("cpu=2.0001")));
        Assert.False(free.Covers(Set("cpu=1,gpu=1,accelerator_x=0.0001")));
    }

    [Fact]
    public void A_nodes_free_resources_are_its_total_less_what_its_actors_hold()
    {
        var node = Node(NodeA, "cpu=4,gpu=4,memory=8GiB", used: "cpu=2,gpu=0.5,memory=512MiB");

        Assert.Equal("cpu=2, gpu=3.5, memory=7.5GiB", node.Free.ToString());
    }

    private static decimal? Amount(string? text) =>
        text is null ? null : decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
