using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Scheduling;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>
/// Edge nodes of a standalone gateway: <see cref="EdgeNodes.ForGateway"/> (here inside the test silo, as a client would
/// use it) registers them relayed, and their work goes through <see cref="IEdgeRelayGrain"/> to the gateway's
/// <see cref="IEdgeNodeObserver"/>; the relay's observer expires without renewal, and a failed call retires the node.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class EdgeRelayTests
{
    private static readonly byte[] Hello = Encoding.UTF8.GetBytes("Hello, world!\n");

    [Fact]
    public async Task GatewayEdgeNode_IsRegisteredRelayed_GetsItsAssignmentThroughItsRelay_AndAgreesWithTheSiloNode()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        using var key = Ed25519KeyPair.Generate();
        var nodeId = key.PublicKey.Did;
        var edges = Gateway(silo);
        var link = new QueueLink();
        var info = await edges.AttachAsync(nodeId, "/ip4/127.0.0.1/tcp/1/p2p/test", new NodeResources(2, 1L << 32, 0, false, 2), new NodePrices(0.01m, 0), link);
        await silo.Services.GetRequiredService<JobScheduler>().RefreshAsync(CancellationToken.None);
        var hash = await silo.UploadAsync("hello.wasm");

        // One silo node and one validator: the job's second node is the relayed edge node.
        var submitted = await silo.SubmitAsync(new JobRequest(hash, Validators: 1));
        var dispatch = await link.Assigned.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var work = (await edges.GetWorkAsync(dispatch))!;
        var reported = await edges.ReportAsync(work, Hello, 0, RunOutcome.Exited, null, TimeSpan.FromMilliseconds(5), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var job = await silo.WaitAsync(submitted.Id);

        Assert.True(info.Edge);
        Assert.True(info.Relayed);
        Assert.Equal("test-gateway", info.SiloId);
        // Its engine is the silo nodes' (from the registry; a gateway has no engine announcement of its own).
        Assert.Equal(silo.Services.GetRequiredService<NodeAnnouncement>().Resources.Engine, info.Resources.Engine);
        Assert.Equal(nodeId, dispatch.NodeId);
        Assert.True(reported);
        Assert.Equal(JobStatus.Settled, job.Status);
        Assert.True(Assert.Single(job.Assignments, a => a.NodeId == nodeId).Agreed);
    }

    [Fact]
    public async Task GatewayEdgeNode_ShardAddress_IsTheGatewaysShardUrl_NotAHostSilos()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        using var key = Ed25519KeyPair.Generate();
        var nodeId = key.PublicKey.Did;
        var info = await Gateway(silo).AttachAsync(nodeId, "/ip4/127.0.0.1/tcp/1/p2p/test", new NodeResources(2, 1L << 32, 0, false, 2), new NodePrices(0.01m, 0), new QueueLink(), shardAddress: "http://10.9.8.7:5090");
        var objects = silo.Services.GetRequiredService<Xmbl.Cluster.Grains.Objects.ObjectService>();
        var addresses = silo.Services.GetRequiredService<Xmbl.Cluster.Storage.Transport.StaticShardNodeResolver>();

        // Placement lists the nodes and learns their shard addresses (the put itself may fail: one silo node; the edge node offers no storage, so no shard goes to the made-up gateway).
        try
        {
            await Xmbl.Cluster.Grains.Tests.Objects.ObjectServiceTestExtensions.PutBytesAsync(objects, "edge", "relayed-address.bin", [1, 2, 3]);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
        }

        Assert.Equal("http://10.9.8.7:5090", info.Address);
        Assert.True(addresses.TryResolve(nodeId, out var edgeAddress));
        Assert.Equal(new Uri("http://10.9.8.7:5090"), edgeAddress);
    }

    [Fact]
    public async Task GatewayEdgeNode_Detached_IsRetired_AndItsRelayNoLongerCallsTheGateway()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        using var key = Ed25519KeyPair.Generate();
        var nodeId = key.PublicKey.Did;
        var edges = Gateway(silo);
        var link = new QueueLink();
        await edges.AttachAsync(nodeId, "/ip4/127.0.0.1/tcp/1/p2p/test", new NodeResources(2, 1L << 32, 0, false, 2), new NodePrices(0.01m, 0), link);

        await edges.DetachAsync(nodeId, link, "test");
        await silo.Grains.GetGrain<IEdgeRelayGrain>(nodeId).AssignAsync(new JobDispatch("job-after-detach", 1, nodeId, JobRole.Executor, null));
        var node = (await silo.Grains.GetGrain<INodeGrain>(nodeId).GetAsync())!;

        Assert.True(node.Retired);
        Assert.False(link.Assigned.TryRead(out _));
    }

    [Fact]
    public async Task Relay_ObserverNotRenewedWithinTheDeathTimeout_Expires_AndARenewalServesTheNodeAgain()
    {
        var clock = new ManualTimeProvider();
        await using var silo = await ComputeSilo.StartAsync(nodes: 1, time: clock);
        var deathTimeout = silo.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NodeOptions>>().Value.DeathTimeout;
        var observer = new RecordingObserver();
        var reference = silo.Grains.CreateObjectReference<IEdgeNodeObserver>(observer);
        var relay = silo.Grains.GetGrain<IEdgeRelayGrain>("did:key:relay-expiry");

        await relay.AttachAsync(reference);
        clock.Advance(deathTimeout + TimeSpan.FromSeconds(1));
        await relay.AssignAsync(new JobDispatch("job-expired", 1, "did:key:relay-expiry", JobRole.Executor, null));
        await relay.AttachAsync(reference);
        await relay.AssignAsync(new JobDispatch("job-renewed", 2, "did:key:relay-expiry", JobRole.Validator, null));
        var received = await observer.Assigned.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("job-renewed", received.JobId);
        Assert.False(observer.Assigned.TryRead(out _));
    }

    [Fact]
    public async Task GatewayEdgeNode_WhoseRelayWasDeactivated_IsServedAgainFromItsNextHeartbeat()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        using var key = Ed25519KeyPair.Generate();
        var nodeId = key.PublicKey.Did;
        var edges = Gateway(silo);
        var link = new QueueLink();
        await edges.AttachAsync(nodeId, "/ip4/127.0.0.1/tcp/1/p2p/test", new NodeResources(2, 1L << 32, 0, false, 2), new NodePrices(0.01m, 0), link);
        var relay = silo.Grains.GetGrain<IEdgeRelayGrain>(nodeId);

        // The relay's activation goes (as when its silo fails): the observer reference it held is lost with it.
        await silo.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await relay.AssignAsync(new JobDispatch("job-while-lost", 1, nodeId, JobRole.Executor, null));
        await edges.HeartbeatAsync(nodeId, runningJobs: 0);
        await relay.AssignAsync(new JobDispatch("job-after-heartbeat", 2, nodeId, JobRole.Executor, null));
        var received = await link.Assigned.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("job-after-heartbeat", received.JobId);
        Assert.False(link.Assigned.TryRead(out _));
    }

    [Fact]
    public async Task Relay_WhenTheGatewayFailsACall_RetiresTheNodeAtOnce()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        using var key = Ed25519KeyPair.Generate();
        var nodeId = key.PublicKey.Did;
        var time = TimeProvider.System.GetUtcNow();
        var node = silo.Grains.GetGrain<INodeGrain>(nodeId);
        await node.RegisterAsync(new NodeRegistration(nodeId, "test-gateway", "/ip4/127.0.0.1/tcp/1", nodeId, new NodeResources(1, 1L << 30, 0, false, 1), new NodePrices(0, 0), time, Edge: true, Relayed: true));
        var relay = silo.Grains.GetGrain<IEdgeRelayGrain>(nodeId);
        var observer = new RecordingObserver { Fail = true };
        await relay.AttachAsync(silo.Grains.CreateObjectReference<IEdgeNodeObserver>(observer));

        await relay.CancelAsync("job-whose-gateway-fails");
        var retired = await WaitAsync(async () => (await node.GetAsync())!.Retired);

        Assert.True(retired);
        Assert.False((await silo.Services.GetRequiredService<NodeDirectory>().ListAsync()).Single(n => n.Node.NodeId == nodeId).Alive);
    }

    [Fact]
    public async Task Dispatcher_SendsARelayedNodesAssignmentToItsRelay_NotToASilo()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        using var key = Ed25519KeyPair.Generate();
        var nodeId = key.PublicKey.Did;
        var node = silo.Grains.GetGrain<INodeGrain>(nodeId);
        await node.RegisterAsync(new NodeRegistration(nodeId, "no-such-silo", "/ip4/127.0.0.1/tcp/1", nodeId, new NodeResources(1, 1L << 30, 0, false, 1), new NodePrices(0, 0), TimeProvider.System.GetUtcNow(), Edge: true, Relayed: true));
        var observer = new RecordingObserver();
        await silo.Grains.GetGrain<IEdgeRelayGrain>(nodeId).AttachAsync(silo.Grains.CreateObjectReference<IEdgeNodeObserver>(observer));
        await silo.Services.GetRequiredService<NodeDirectory>().ListAsync();
        var dispatcher = silo.Services.GetRequiredService<JobDispatcher>();

        dispatcher.Dispatch(new JobDispatch("job-relayed", 3, nodeId, JobRole.Validator, null));
        dispatcher.Cancel("job-relayed", [nodeId]);
        var assigned = await observer.Assigned.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var cancelled = await observer.Cancelled.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(("job-relayed", 3), (assigned.JobId, assigned.AssignmentId));
        Assert.Equal("job-relayed", cancelled);
    }

    [Fact]
    public async Task GatewayEdgeNode_WithNoLiveSiloNodeToPairWith_IsRefused_AndNotRegistered()
    {
        await using var silo = await ComputeSilo.StartAsync(nodes: 1);
        var siloNode = silo.Services.GetRequiredService<LocalNodes>().All[0].Id;
        await silo.Grains.GetGrain<INodeGrain>(siloNode).RetireAsync(TimeProvider.System.GetUtcNow());
        using var key = Ed25519KeyPair.Generate();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Gateway(silo).AttachAsync(key.PublicKey.Did, "/ip4/127.0.0.1/tcp/1", new NodeResources(2, 1L << 32, 0, false, 2), new NodePrices(0, 0), new QueueLink()));

        Assert.Contains("silo node", refused.Message, StringComparison.Ordinal);
        Assert.Null(await silo.Grains.GetGrain<INodeGrain>(key.PublicKey.Did).GetAsync());
    }

    private static EdgeNodes Gateway(ComputeSilo silo) => EdgeNodes.ForGateway(
        silo.Grains,
        silo.Services.GetRequiredService<NodeDirectory>(),
        "test-gateway",
        TimeProvider.System,
        silo.Services.GetRequiredService<ILogger<EdgeNodes>>());

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
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

    private sealed class RecordingObserver : IEdgeNodeObserver
    {
        private readonly Channel<JobDispatch> _assigned = Channel.CreateUnbounded<JobDispatch>();
        private readonly Channel<string> _cancelled = Channel.CreateUnbounded<string>();

        public bool Fail { get; init; }

        public ChannelReader<JobDispatch> Assigned => _assigned.Reader;

        public ChannelReader<string> Cancelled => _cancelled.Reader;

        public Task AssignAsync(JobDispatch dispatch)
        {
            _assigned.Writer.TryWrite(dispatch);
            return Fail ? Task.FromException(new IOException("the gateway lost the node")) : Task.CompletedTask;
        }

        public Task CancelAsync(string jobId)
        {
            _cancelled.Writer.TryWrite(jobId);
            return Fail ? Task.FromException(new IOException("the gateway lost the node")) : Task.CompletedTask;
        }
    }
}
