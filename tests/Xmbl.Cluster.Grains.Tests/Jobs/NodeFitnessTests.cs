using Xmbl.Cluster.Grains.Jobs.Scheduling;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

[Trait("Suite", "BVT")]
public sealed class NodeFitnessTests
{
    private static readonly string[] None = [];

    [Fact]
    public void Pick_SkipsDeadFullTooExpensiveDistrustedAndExcludedNodes()
    {
        NodeCandidate[] nodes =
        [
            Node("dead") with { Alive = false },
            Node("full") with { Running = 2, Concurrency = 2 },
            Node("pricey") with { PricePerMillionFuel = 5m },
            Node("distrusted") with { Reputation = 0.1 },
            Node("excluded"),
            Node("ok") with { Reputation = 0.3 },
        ];

        var pick = NodeFitness.Pick(nodes, "job", maxPrice: 1m, minReputation: 0.2, excluded: ["excluded"], avoidOperators: None);

        Assert.Equal("ok", pick?.NodeId);
    }

    [Fact]
    public void Pick_WithAnEngine_TakesOnlyNodesRunningThatEngineAndVersion()
    {
        NodeCandidate[] nodes =
        [
            Node("managed") with { Engine = "managed 1.0.0", Reputation = 0.9 },
            Node("older") with { Engine = "wasmtime 49.0.0", Reputation = 0.9 },
            Node("same") with { Engine = "wasmtime 50.0.1", Reputation = 0.3 },
        ];

        var pick = NodeFitness.Pick(nodes, "job", maxPrice: null, minReputation: 0.2, excluded: None, avoidOperators: None, engine: "wasmtime 50.0.1");
        var why = NodeFitness.Explain(nodes[..2], maxPrice: null, minReputation: 0.2, excluded: None, engine: "wasmtime 50.0.1");

        Assert.Equal("same", pick?.NodeId);
        Assert.Equal("nodes managed, older not running the executor's engine (wasmtime 50.0.1)", why);
    }

    [Fact]
    public void Pick_ForASimdModule_TakesOnlyNodesWhoseEngineRunsSimd_AndExplainsTheOthers()
    {
        NodeCandidate[] nodes =
        [
            Node("managed") with { Engine = "managed 1.0.0", EngineFeatures = [], Reputation = 0.9 },
            Node("old-silo") with { Engine = null, EngineFeatures = null, Reputation = 0.9 },
            Node("wasmtime") with { Engine = "wasmtime 50.0.1", EngineFeatures = ["simd"], Reputation = 0.3 },
        ];

        var simd = NodeFitness.Pick(nodes, "job", maxPrice: null, minReputation: 0.2, excluded: None, avoidOperators: None, features: ["simd"]);
        var plain = NodeFitness.Pick(nodes, "job", maxPrice: null, minReputation: 0.2, excluded: None, avoidOperators: None, features: null);
        var why = NodeFitness.Explain(nodes[..2], maxPrice: null, minReputation: 0.2, excluded: None, features: ["simd"]);

        Assert.Equal("wasmtime", simd?.NodeId);
        Assert.NotEqual("wasmtime", plain?.NodeId); // without SIMD the better reputation wins
        Assert.Equal("node managed running an engine (managed 1.0.0) without simd, which the module uses; node old-silo running an engine (not announced) without simd, which the module uses", why);
    }

    [Fact]
    public void Pick_ForAJobWithStoredObjects_SkipsEdgeNodes_AndExplainsThem()
    {
        NodeCandidate[] nodes =
        [
            Node("edge") with { Edge = true, Reputation = 0.9 },
            Node("silo") with { Reputation = 0.3 },
        ];

        var stored = NodeFitness.Pick(nodes, "job", maxPrice: null, minReputation: 0.2, excluded: None, avoidOperators: None, storedObjects: true);
        var plain = NodeFitness.Pick(nodes, "job", maxPrice: null, minReputation: 0.2, excluded: None, avoidOperators: None);
        var why = NodeFitness.Explain(nodes[..1], maxPrice: null, minReputation: 0.2, excluded: None, storedObjects: true);

        Assert.Equal("silo", stored?.NodeId);
        Assert.Equal("edge", plain?.NodeId); // without stored objects the better reputation wins
        Assert.Equal("node edge an edge node, which has no storage proxy for the job's stored objects", why);
    }

    [Fact]
    public void Explain_GroupsEveryNodeByWhyItIsNotEligible()
    {
        NodeCandidate[] nodes =
        [
            Node("a"),
            Node("b"),
            Node("dead") with { Alive = false },
            Node("full") with { Running = 2, Concurrency = 2 },
            Node("pricey") with { PricePerMillionFuel = 5m },
            Node("distrusted") with { Reputation = 0.1 },
        ];

        var why = NodeFitness.Explain(nodes, maxPrice: 1m, minReputation: 0.2, excluded: ["a", "b"]);

        Assert.Equal("nodes a, b already on the job; node dead offline; node full busy; node pricey price above 1; node distrusted reputation below 0.2", why);
        Assert.Equal("no nodes are registered", NodeFitness.Explain([], null, 0.2, None));
    }

    [Fact]
    public void Explain_RunLargerThanANodesFreeOrWholeMemory_SaysWhichAndWhetherWaitingHelps()
    {
        NodeCandidate[] nodes =
        [
            Node("small") with { MemoryBytes = 400L << 20 },
            Node("loaded") with { MemoryBytes = 4096L << 20, ReservedMemoryBytes = 3584L << 20 },
        ];

        var why = NodeFitness.Explain(nodes, maxPrice: null, minReputation: 0.2, excluded: None, memoryBytes: 1040L << 20);

        Assert.Equal("node small announces 400 MiB of memory, the run needs 1040 MiB; node loaded has 512 MiB of memory free, the run needs 1040 MiB", why);
    }

    [Fact]
    public void Pick_NoEligibleNode_ReturnsNull()
    {
        Assert.Null(NodeFitness.Pick([Node("a") with { Running = 1, Concurrency = 1 }], "job", null, 0.2, None, None));
    }

    [Fact]
    public void Pick_HigherReputationWins_SoALiarGetsFewerJobs()
    {
        NodeCandidate[] nodes = [Node("liar") with { Reputation = 0.35 }, Node("honest") with { Reputation = 0.52 }];

        var picks = Enumerable.Range(0, 200).Select(i => NodeFitness.Pick(nodes, $"job-{i}", null, 0.2, None, None)!.NodeId).ToList();

        Assert.All(picks, p => Assert.Equal("honest", p));
    }

    [Fact]
    public void Pick_EqualNodes_SpreadsJobsOverThem()
    {
        NodeCandidate[] nodes = [Node("a"), Node("b"), Node("c")];

        var counts = Enumerable.Range(0, 300)
            .Select(i => NodeFitness.Pick(nodes, $"0190000000{i:x3}-abcdefabcdef", null, 0.2, None, None)!.NodeId)
            .GroupBy(n => n)
            .ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 50, 150));
    }

    [Fact]
    public void Pick_FreerAndFasterNodesRankHigher()
    {
        var busy = Node("busy") with { Concurrency = 4, Running = 3 };
        var idle = Node("idle") with { Concurrency = 4, Running = 0 };
        var slow = Node("slow") with { LatencyMs = 500 };
        var fast = Node("fast") with { LatencyMs = 1 };

        Assert.True(NodeFitness.Score(idle, null) > NodeFitness.Score(busy, null));
        Assert.True(NodeFitness.Score(fast, null) > NodeFitness.Score(slow, null));
        Assert.Equal("idle", NodeFitness.Pick([busy, idle], "j", null, 0, None, None)!.NodeId);
    }

    [Fact]
    public void Pick_CheaperNodeRanksHigherUnderAPriceCap()
    {
        var cheap = Node("cheap") with { PricePerMillionFuel = 0.1m };
        var dear = Node("dear") with { PricePerMillionFuel = 0.9m };

        Assert.True(NodeFitness.Score(cheap, 1m) > NodeFitness.Score(dear, 1m));
    }

    [Fact]
    public void Pick_PrefersAnotherOperatorEvenIfLessFit()
    {
        NodeCandidate[] nodes = [Node("same") with { Operator = "alice", Reputation = 0.9 }, Node("other") with { Operator = "bob", Reputation = 0.3 }];

        Assert.Equal("other", NodeFitness.Pick(nodes, "j", null, 0.2, None, ["alice"])!.NodeId);
        // Only the executor's operator is left: still better than no validator.
        Assert.Equal("same", NodeFitness.Pick([nodes[0]], "j", null, 0.2, None, ["alice"])!.NodeId);
    }

    [Fact]
    public void Pick_UntriedNodeGoesFirst_OverFasterMoreReputableNodes_ButNotOverAnotherOperatorOrWithABadRecord()
    {
        // What a working node has after a few agreed fast runs: by score alone the new node loses every job.
        var proven = Node("proven") with { Reputation = 0.6, LatencyMs = 1 };
        var fresh = Node("fresh") with { Untried = true };
        Assert.True(NodeFitness.Score(proven, null) > NodeFitness.Score(fresh, null) + NodeFitness.JitterWidth);

        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal("fresh", NodeFitness.Pick([proven, fresh], $"job-{i}", null, 0.2, None, None)!.NodeId));
        Assert.Equal("proven", NodeFitness.Pick([proven with { Operator = "bob" }, fresh], "j", null, 0.2, None, ["op"])!.NodeId);
        Assert.Equal("proven", NodeFitness.Pick([proven, fresh with { Reputation = 0.4 }], "j", null, 0.2, None, None)!.NodeId);
    }

    private static NodeCandidate Node(string id) => new(id, "op", true, 1, 0, 0.01m, 0.5, null);
}
