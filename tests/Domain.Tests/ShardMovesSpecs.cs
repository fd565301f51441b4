using Xunit;

namespace Bank.Domain.Tests;

/// <summary>Where a moving shard may start: settled nodes first, a new shard anywhere; no rebalance while a node settles.</summary>
public sealed class ShardMovesSpecs
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Start = TimeSpan.FromHours(1);
    private const string Head = "akka.tcp://bank@127.0.0.1:1";
    private const string Worker = "akka.tcp://bank@127.0.0.1:2";
    private const string Newcomer = "akka.tcp://bank@127.0.0.1:3";

    /// <summary>Head and worker up when the coordinator started; the dead worker's shard "7" was placed before.</summary>
    private static ShardMoves AfterAKill(TimeSpan newcomerSeenAt)
    {
        var moves = new ShardMoves(Settle);
        moves.SeeUpNodes([Head, Worker], Start);
        moves.SeePlacedShards(["7", "8"]);
        moves.SeeUpNodes([Head, Worker, Newcomer], newcomerSeenAt);
        return moves;
    }

    [Fact]
    public void A_dead_nodes_shard_starts_on_a_settled_node_not_on_the_one_that_just_joined()
    {
        var moves = AfterAKill(Start + TimeSpan.FromSeconds(5));

        Assert.Equal([Head, Worker], moves.Candidates("7", [Head, Worker, Newcomer], Start + TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void Once_it_has_settled_the_newcomer_takes_moving_shards_too()
    {
        var moves = AfterAKill(Start + TimeSpan.FromSeconds(5));

        Assert.Equal([Head, Worker, Newcomer], moves.Candidates("7", [Head, Worker, Newcomer], Start + TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void A_new_shard_may_start_anywhere_even_on_a_node_that_just_joined()
    {
        var moves = AfterAKill(Start + TimeSpan.FromSeconds(5));

        Assert.Equal([Head, Worker, Newcomer], moves.Candidates("42", [Head, Worker, Newcomer], Start + TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void When_no_node_has_settled_a_moving_shard_goes_anywhere_rather_than_wait()
    {
        var moves = AfterAKill(Start + TimeSpan.FromSeconds(5));

        Assert.Equal([Newcomer], moves.Candidates("7", [Newcomer], Start + TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void No_rebalance_runs_until_every_node_with_a_region_has_settled()
    {
        var moves = AfterAKill(Start + TimeSpan.FromSeconds(5));

        Assert.False(moves.MayRebalance([Head, Worker, Newcomer], Start + TimeSpan.FromSeconds(14)));
        Assert.True(moves.MayRebalance([Head, Worker, Newcomer], Start + TimeSpan.FromSeconds(15)));
        // A region whose node is not Up (joining, or gone) has not settled.
        Assert.False(moves.MayRebalance([Head, "akka.tcp://bank@127.0.0.1:4"], Start + TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void A_node_that_leaves_and_comes_back_settles_again()
    {
        var moves = AfterAKill(Start);
        moves.SeeUpNodes([Head, Worker], Start + TimeSpan.FromSeconds(20));
        moves.SeeUpNodes([Head, Worker, Newcomer], Start + TimeSpan.FromSeconds(30));

        Assert.False(moves.IsSettled(Newcomer, Start + TimeSpan.FromSeconds(35)));
        Assert.True(moves.IsSettled(Newcomer, Start + TimeSpan.FromSeconds(40)));
    }
}
