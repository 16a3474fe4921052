using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Identity;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>
/// Edge nodes through <see cref="EdgeNodes"/> (the libp2p bridge's transport is replaced by a queue): scheduled beside a
/// silo node, and an edge result reaches the job only when it matches the silo node's run, carrying its fuel.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class EdgeNodeTests
{
    private static readonly byte[] Hello = Encoding.UTF8.GetBytes("Hello, world!\n");

    [Fact]
    public async Task EdgeNode_ReproducingTheSiloNodesRun_IsReportedWithItsFuel_AndAgrees()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var (edges, link, nodeId) = await AttachAsync(silo);
        var hash = await silo.UploadAsync("hello.wasm");

        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1));
        var work = (await edges.GetWorkAsync(await link.Assigned.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))))!;
        var reported = await edges.ReportAsync(work, Hello, 0, RunOutcome.Exited, null, TimeSpan.FromMilliseconds(5), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var job = await silo.WaitAsync(submitted.Id);

        Assert.True(reported);
        Assert.Equal(JobStatus.Settled, job.Status);
        var mine = Assert.Single(job.Assignments, a => a.NodeId == nodeId);
        var theirs = Assert.Single(job.Assignments, a => a.NodeId != nodeId);
        Assert.True(mine.Agreed);
        Assert.Equal(theirs.Fuel, mine.Fuel);
        Assert.Equal(theirs.ResultHash, mine.ResultHash);
        Assert.Contains(job.Transitions, t => t.Reason == "all 2 nodes agree");
    }

    [Fact]
    public async Task EdgeNode_WithAnotherOutput_IsNotReported_SoItCannotSwayTheResult()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var (edges, link, nodeId) = await AttachAsync(silo);
        var hash = await silo.UploadAsync("hello.wasm");

        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1));
        var work = (await edges.GetWorkAsync(await link.Assigned.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))))!;
        var reported = await edges.ReportAsync(work, [.. Hello, .. "(altered)"u8], 0, RunOutcome.Exited, null, TimeSpan.FromMilliseconds(5), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var job = (await silo.Jobs.GetAsync(submitted.Id))!;

        Assert.False(reported);
        Assert.Equal(AssignmentStatus.Assigned, Assert.Single(job.Assignments, a => a.NodeId == nodeId).Status);
        Assert.Null(job.Result);
    }

    [Fact]
    public async Task JobWritingAStoredObject_IsNeverPlacedOnAnEdgeNode_AndTheJobSaysWhy()
    {
        // One silo node runs the executor; the validator's only other node is the edge node, which has no storage proxy.
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, new Dictionary<string, string?> { ["Xmbl:Compute:RoleWaitTimeout"] = "00:00:03" });
        var (_, link, nodeId) = await AttachAsync(silo);
        var hash = await silo.UploadAsync("hello.wasm");

        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1, OutputObject: "edge/out.txt"));
        var job = await silo.WaitAsync(submitted.Id);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.DoesNotContain(job.Assignments, a => a.NodeId == nodeId);
        Assert.False(link.Assigned.TryRead(out _));
        Assert.Contains(job.Transitions, t => t.To == JobStatus.Failed
            && t.Reason.StartsWith("no eligible node for validator slot 1", StringComparison.Ordinal)
            && t.Reason.Contains($"node {nodeId} an edge node, which has no storage proxy for the job's stored objects", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EdgeNode_Detached_IsRetired_AndGetsNoMoreWork()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var (edges, link, nodeId) = await AttachAsync(silo);

        await edges.DetachAsync(nodeId, link, "test");
        var node = (await silo.Services.GetRequiredService<NodeDirectory>().ListAsync()).Single(n => n.Node.NodeId == nodeId);

        Assert.True(node.Node.Edge);
        Assert.True(node.Node.Retired);
        Assert.False(node.Alive);
    }

    [Fact]
    public async Task EdgeNode_ShardAddress_IsItsHostSilosAddress_NotThePeersMultiaddr()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var (_, _, nodeId) = await AttachAsync(silo);
        var objects = silo.Services.GetRequiredService<Xmbl.Cluster.Grains.Objects.ObjectService>();
        var addresses = silo.Services.GetRequiredService<Xmbl.Cluster.Storage.Transport.StaticShardNodeResolver>();
        var siloNode = silo.Services.GetRequiredService<LocalNodes>().All[0].Id;

        // Placement lists the nodes and learns their shard addresses (the put itself may fail: one node, 3 + 2 shards).
        try
        {
            await Xmbl.Cluster.Grains.Tests.Objects.ObjectServiceTestExtensions.PutBytesAsync(objects, "edge", "address.bin", [1, 2, 3]);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
        }

        Assert.True(addresses.TryResolve(siloNode, out var hostAddress));
        Assert.True(addresses.TryResolve(nodeId, out var edgeAddress));
        Assert.Equal(hostAddress, edgeAddress);
    }

    private static async Task<(EdgeNodes Edges, QueueLink Link, string NodeId)> AttachAsync(ComputeSilo silo)
    {
        using var key = Ed25519KeyPair.Generate();
        var edges = silo.Services.GetRequiredService<EdgeNodes>();
        var link = new QueueLink();
        var info = await edges.AttachAsync(key.PublicKey.Did, "/ip4/127.0.0.1/tcp/1/p2p/test", new NodeResources(2, 1L << 32, 0, false, 2), new NodePrices(0.01m, 0), link);
        Assert.True(info.Edge);
        Assert.Equal(silo.Services.GetRequiredService<NodeAnnouncement>().Resources.Engine, info.Resources.Engine);
        await silo.Services.GetRequiredService<JobScheduler>().RefreshAsync(CancellationToken.None);
        return (edges, link, key.PublicKey.Did);
    }

    private sealed class QueueLink : IEdgeNodeLink
    {
        private readonly Channel<JobDispatch> _assigned = Channel.CreateUnbounded<JobDispatch>();

        public ChannelReader<JobDispatch> Assigned => _assigned.Reader;

        public void Assign(JobDispatch dispatch) => _assigned.Writer.TryWrite(dispatch);

        public void Cancel(string jobId)
        {
        }
    }
}
