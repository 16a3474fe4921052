using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.P2P.Messages;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Interfaces.Models;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Jobs.Modules;
using Xmbl.Cluster.Grains.Jobs.Options;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.P2P.Yamux;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Transport;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>
/// <c>/xmbl/node/1.0.0</c>: a public peer serves as an edge node. The transport of <see cref="EdgeNodes"/>, which
/// registers, schedules, validates, reputes and pays it through the same grains as a silo node. Inside a silo the
/// silo hosts the node; on a standalone gateway the node's work comes through its relay grain. A node that announces
/// storage is also a shard holder: an <see cref="EdgeShardStore"/> in this process's shard node registry, served to
/// other members by its shard endpoints (a gateway's node announces them, <c>EdgeShardUrl</c>, as its address).
/// </summary>
internal sealed class NodeProtocol(IServiceProvider services, IOptions<P2PBridgeOptions> options, IOptions<ComputeOptions> compute, IOptions<NodeOptions> nodeOptions, ILogger<NodeProtocol> logger) : IBridgeProtocol
{
    public const string ProtocolId = "/xmbl/node/1.0.0";

    private readonly EdgeNodes? _edges = services.GetService<EdgeNodes>();
    private readonly ModuleStore? _modules = services.GetService<ModuleStore>();
    private readonly ShardNodeRegistry? _shards = services.GetService<ShardNodeRegistry>();
    private readonly int _maxShardBytes = services.GetService<IOptions<StorageOptions>>()?.Value.ShardSize ?? StorageOptions.DefaultShardSize;
    private readonly TimeProvider _time = services.GetKeyedService<TimeProvider>(ClusterClock.Key) ?? TimeProvider.System;
    private string? _shardUrl;

    public string Id => ProtocolId;

    public bool Enabled => _edges is not null && _modules is not null;

    public async Task ServeAsync(YamuxStream stream, BridgePeer peer, CancellationToken cancellationToken)
    {
        var edges = _edges!;
        var limits = options.Value;
        var first = await Framing.ReadMessageAsync(stream.Input, NodeMessage.Parser, limits.MaxMessageBytes, ProtocolId, cancellationToken)
            ?? throw new BridgeProtocolException($"{ProtocolId}: the stream closed without a hello.");
        if (first.MessageCase != NodeMessage.MessageOneofCase.Hello)
        {
            throw new BridgeProtocolException($"{ProtocolId}: the first message must be a hello, not {first.MessageCase}.");
        }

        if (Check(first.Hello, out var resources, out var prices) is { } refused)
        {
            await Framing.WriteMessageAsync(stream.Output, new GatewayMessage { Error = refused }, cancellationToken);
            return;
        }

        var link = new Link(limits.EdgeShardQueueBytes);
        var reason = "its stream ended";
        EdgeShardStore? store = null;
        if (_shards is not null && resources.StorageBytes > 0)
        {
            // Registered before the node is: once it is listed with free space, the writer may place shards on it.
            store = new EdgeShardStore(peer.Account, resources.StorageBytes, _maxShardBytes, limits.EdgeShardTimeout, link.Send, _time, logger);
            _shards.Set(peer.Account, store);
        }

        try
        {
            await edges.AttachAsync(peer.Account, peer.Connection.RemoteAddress.ToString(), resources, prices, link, edges.Relayed ? ShardUrl() : null);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            if (store is not null)
            {
                store.Close("its registration failed");
                _shards!.Remove(peer.Account, store);
            }

            // The cluster failed, not the peer (e.g. no silo node to pair its results with): it may try again.
            BridgeLog.RequestFailed(logger, ProtocolId, peer.Account, e);
            await Framing.WriteMessageAsync(stream.Output, new GatewayMessage { Error = BridgeErrors.Of(503, "The cluster could not register the node now; try again.") }, cancellationToken);
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reports = new ConcurrentDictionary<Task, byte>();
        Task? writer = null;
        try
        {
            var node = nodeOptions.Value;
            await Framing.WriteMessageAsync(
                stream.Output,
                new GatewayMessage { Welcome = new NodeWelcome { NodeId = peer.Account, HeartbeatMs = (uint)node.HeartbeatPeriod.TotalMilliseconds, DeathTimeoutMs = (uint)node.DeathTimeout.TotalMilliseconds } },
                cancellationToken);
            writer = WriteAsync(stream, link, edges, stop.Token);

            // Results carry a run's output, shard answers a shard: bounded by the larger, plus room for the other fields.
            var maxMessage = Math.Max(compute.Value.MaxOutputBytes, store is null ? 0 : _maxShardBytes) + limits.MaxMessageBytes;
            while (await Framing.ReadMessageAsync(stream.Input, NodeMessage.Parser, maxMessage, ProtocolId, stop.Token) is { } message)
            {
                switch (message.MessageCase)
                {
                    case NodeMessage.MessageOneofCase.Heartbeat:
                        await edges.HeartbeatAsync(peer.Account, (int)Math.Min(message.Heartbeat.RunningJobs, int.MaxValue), store?.UsedBytes ?? 0);
                        break;
                    case NodeMessage.MessageOneofCase.Shard:
                        if (store is null)
                        {
                            throw new BridgeProtocolException($"{ProtocolId}: a shard response from a node that announced no storage.");
                        }

                        // An answer to no open request (one that timed out already) is dropped.
                        store.Complete(message.Shard);
                        break;
                    case NodeMessage.MessageOneofCase.Result:
                        if (Report(edges, link, message.Result, stop.Token) is { } report)
                        {
                            reports[report] = 0;
                            _ = report.ContinueWith(t => reports.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                        }

                        break;
                    default:
                        throw new BridgeProtocolException($"{ProtocolId}: expected a heartbeat or a result, got {message.MessageCase}.");
                }
            }
        }
        catch (BridgeProtocolException e)
        {
            reason = e.Message;
            throw;
        }
        finally
        {
            await stop.CancelAsync();
            link.Complete();
            if (store is not null)
            {
                // Open shard requests fail at once; the shards it held count as lost (the node leaves the registry) until repair.
                store.Close(reason);
                _shards!.Remove(peer.Account, store);
            }

            if (writer is not null)
            {
                await writer.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            await Task.WhenAll(reports.Keys).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            await edges.DetachAsync(peer.Account, link, peer.Connection.Closing.IsCancellationRequested ? "its connection closed" : reason);
        }
    }

    /// <summary>Where silos reach this gateway's shard endpoints: <c>EdgeShardUrl</c>, else the first URL it listens on.</summary>
    private string ShardUrl() => _shardUrl ??= Advertised(
        options.Value.EdgeShardUrl
        ?? services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? throw new InvalidOperationException($"The gateway's listening URL is unknown; set {P2PBridgeOptions.SectionName}:{nameof(P2PBridgeOptions.EdgeShardUrl)}."));

    /// <summary><paramref name="url"/>'s scheme, host and port, a wildcard host replaced as a silo replaces its own.</summary>
    internal static string Advertised(string url) => new Uri(SiloConfiguration.AdvertisedUrl(url)).GetLeftPart(UriPartial.Authority);

    /// <summary>The hello as a node's resources and prices, or the error that refuses it.</summary>
    private static Error? Check(NodeHello hello, out NodeResources resources, out NodePrices prices)
    {
        var fields = new Dictionary<string, string[]>(StringComparer.Ordinal);
        resources = new NodeResources(0, 0, 0, false, 0);
        prices = new NodePrices(0, 0);
        if (hello.Cores is < 1 or > 4096)
        {
            fields["cores"] = ["must be from 1 to 4096"];
        }

        if (hello.Concurrency is < 1 or > 1024)
        {
            fields["concurrency"] = ["must be from 1 to 1024"];
        }

        if (hello.MemoryBytes is < 1 << 20 or > 1L << 50)
        {
            fields["memoryBytes"] = ["must be from 1 MiB to 1 PiB"];
        }

        if (hello.StorageBytes > 1L << 60)
        {
            fields["storageBytes"] = ["is too large"];
        }

        if (!TryPrice(hello.PricePerMillionFuel, out var fuelPrice))
        {
            fields["pricePerMillionFuel"] = ["must be a non-negative decimal number such as 0.01"];
        }

        if (!TryPrice(hello.PricePerGbMonth, out var storagePrice))
        {
            fields["pricePerGbMonth"] = ["must be a non-negative decimal number such as 0.002 (or empty for 0)"];
        }

        if (fields.Count > 0)
        {
            return BridgeErrors.Of(fields, "The node's hello is invalid; fields names each problem.");
        }

        resources = new NodeResources((int)hello.Cores, (long)hello.MemoryBytes, (long)hello.StorageBytes, false, (int)hello.Concurrency);
        prices = new NodePrices(fuelPrice, storagePrice);
        return null;
    }

    private static bool TryPrice(string text, out decimal price)
    {
        price = 0;
        return text.Length == 0 || (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out price) && price <= 1_000_000m);
    }

    /// <summary>Sends the node its assignments (with the module and input) and cancellations, one message at a time.</summary>
    private async Task WriteAsync(YamuxStream stream, Link link, EdgeNodes edges, CancellationToken ct)
    {
        await foreach (var item in link.Outbox.ReadAllAsync(ct))
        {
            if (item.Message is { } message)
            {
                await Framing.WriteMessageAsync(stream.Output, message, ct);
                link.Sent(message);
                continue;
            }

            if (item.Cancel is { } jobId)
            {
                await Framing.WriteMessageAsync(stream.Output, new GatewayMessage { Cancel = new CancelJob { JobId = jobId } }, ct);
                continue;
            }

            var dispatch = item.Dispatch!;
            if (await edges.GetWorkAsync(dispatch) is not { } work)
            {
                continue;
            }

            if (work.Spec.InputObjects.Count > 0 || work.Spec.OutputObject is not null)
            {
                // Stored objects are read and written through a silo's storage proxy, which an edge node has not. The
                // scheduler places no such job on an edge node (NodeFitness); this guards against one that slips through.
                BridgeLog.EdgeDeclined(logger, work.AssignmentId, work.JobId, work.NodeId);
                continue;
            }

            var module = await _modules!.GetBytesAsync(work.Spec.ModuleHash, ct);
            if (module is null)
            {
                continue;
            }

            link.Pending[(work.JobId, work.AssignmentId)] = work;
            var spec = work.Spec;
            var assignment = new Assignment
            {
                JobId = work.JobId,
                AssignmentId = (uint)work.AssignmentId,
                Role = work.Role.ToString().ToLowerInvariant(),
                ModuleHash = spec.ModuleHash,
                Module = ByteString.CopyFrom(module),
                Entry = spec.Entry,
                Stdin = ByteString.CopyFrom(spec.Stdin),
                Fuel = (ulong)spec.Limits.Fuel,
                MemoryPages = (uint)spec.Limits.MemoryPages,
                WallTimeMs = (uint)spec.Limits.WallTime.TotalMilliseconds,
            };
            assignment.Args.AddRange(spec.Args);
            foreach (var (name, value) in spec.Env)
            {
                assignment.Env.Add(new EnvVar { Name = name, Value = value });
            }

            await Framing.WriteMessageAsync(stream.Output, new GatewayMessage { Assignment = assignment }, ct);
        }
    }

    private static Task? Report(EdgeNodes edges, Link link, AssignmentResult result, CancellationToken ct)
    {
        if (!link.Pending.TryRemove((result.JobId, (int)Math.Min(result.AssignmentId, int.MaxValue)), out var work))
        {
            // Not an assignment this node holds (one reported twice, or made up): nothing to report.
            return null;
        }

        if (!Enum.TryParse<RunOutcome>(result.Outcome, ignoreCase: true, out var outcome) || !Enum.IsDefined(outcome) || int.TryParse(result.Outcome, out _))
        {
            throw new BridgeProtocolException($"{ProtocolId}: unknown outcome '{result.Outcome}' (use one of {string.Join(", ", Enum.GetNames<RunOutcome>()).ToLowerInvariant()}).");
        }

        return edges.ReportAsync(work, result.Output.ToByteArray(), result.ExitCode, outcome, result.Detail.Length == 0 ? null : result.Detail, TimeSpan.FromMilliseconds(result.DurationMs), ct);
    }

    /// <summary>The edge node's side of <see cref="IEdgeNodeLink"/>: a queue the writer drains (assignments, cancels
    /// and shard requests). Shard requests queue at most <c>EdgeShardQueueBytes</c>: a node that stops reading makes
    /// them time out, and without a bound every retry would leave another shard queued behind its stalled stream.</summary>
    internal sealed class Link(long maxQueuedShardBytes) : IEdgeNodeLink
    {
        private long _queuedShardBytes;

        private readonly Channel<(JobDispatch? Dispatch, string? Cancel, GatewayMessage? Message)> _outbox = Channel.CreateUnbounded<(JobDispatch?, string?, GatewayMessage?)>(new UnboundedChannelOptions { SingleReader = true });

        public ChannelReader<(JobDispatch? Dispatch, string? Cancel, GatewayMessage? Message)> Outbox => _outbox.Reader;

        public ConcurrentDictionary<(string JobId, int AssignmentId), JobWork> Pending { get; } = new();

        public void Assign(JobDispatch dispatch) => _outbox.Writer.TryWrite((dispatch, null, null));

        /// <summary>Queues a message for the node; false when its stream is closed or its queue of shard bytes is full.</summary>
        public bool Send(GatewayMessage message)
        {
            var size = message.CalculateSize();
            if (Interlocked.Add(ref _queuedShardBytes, size) > maxQueuedShardBytes && size < Interlocked.Read(ref _queuedShardBytes))
            {
                // Full, unless the queue held nothing else: one shard always goes.
                Interlocked.Add(ref _queuedShardBytes, -size);
                return false;
            }

            if (_outbox.Writer.TryWrite((null, null, message)))
            {
                return true;
            }

            Interlocked.Add(ref _queuedShardBytes, -size);
            return false;
        }

        /// <summary>The writer sent <paramref name="message"/>: its bytes leave the queue.</summary>
        public void Sent(GatewayMessage message) => Interlocked.Add(ref _queuedShardBytes, -message.CalculateSize());

        public void Cancel(string jobId)
        {
            foreach (var key in Pending.Keys)
            {
                if (string.Equals(key.JobId, jobId, StringComparison.Ordinal))
                {
                    Pending.TryRemove(key, out _);
                    _outbox.Writer.TryWrite((null, jobId, null));
                }
            }
        }

        public void Complete() => _outbox.Writer.TryComplete();
    }
}
