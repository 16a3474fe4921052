using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Gateway.P2P.Messages;
using Xmbl.Cluster.Storage.Shards;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>
/// The shard store of an edge node that announced storage: each operation is a <see cref="ShardRequest"/> down the
/// node's <c>/xmbl/node</c> stream, answered by a <see cref="ShardResponse"/>. Registered in the silo's shard node
/// registry under the node's id, so the same writer, reader and repair that use silo nodes place shards on it.
/// </summary>
/// <remarks>
/// The index (id, length, SHA-256) is the gateway's, not the peer's: every shard fetched back is hashed here and a
/// mismatch is a <see cref="ShardCorruptException"/>, which the reader and repair treat as a lost shard. The index
/// lives as long as the connection: a node that reconnects starts empty, and repair rebuilds what it held elsewhere.
/// </remarks>
internal sealed class EdgeShardStore : IShardStore
{
    private const string Volume = "edge";
    private readonly ConcurrentDictionary<ShardId, ShardInfo> _index = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ShardResponse>> _pending = new();
    private readonly string _nodeId;
    private readonly long _capacity;
    private readonly int _maxShardBytes;
    private readonly TimeSpan _timeout;
    private readonly Func<GatewayMessage, bool> _send;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _used;
    private long _nextRequest;
    private volatile string? _closed;

    /// <param name="nodeId">The edge node (its did).</param>
    /// <param name="capacity">The storage it announced.</param>
    /// <param name="maxShardBytes">The largest shard it is given (the node's messages are read up to this size).</param>
    /// <param name="timeout">How long the node has to answer one request.</param>
    /// <param name="send">Queues a message to the node; false once its stream is closed.</param>
    /// <param name="time">The clock for creation times.</param>
    /// <param name="logger">Logs shards the node sent back altered.</param>
    public EdgeShardStore(string nodeId, long capacity, int maxShardBytes, TimeSpan timeout, Func<GatewayMessage, bool> send, TimeProvider time, ILogger logger)
    {
        _nodeId = nodeId;
        _capacity = capacity;
        _maxShardBytes = maxShardBytes;
        _timeout = timeout;
        _send = send;
        _time = time;
        _logger = logger;
    }

    /// <summary>Bytes of shards held.</summary>
    public long UsedBytes => Interlocked.Read(ref _used);

    /// <summary>Takes a response from the node; false when it answers no open request (a stale or made-up id).</summary>
    public bool Complete(ShardResponse response) =>
        _pending.TryRemove(response.RequestId, out var waiter) && waiter.TrySetResult(response);

    /// <summary>The node's stream ended: open and later requests fail as an unavailable node.</summary>
    public void Close(string reason)
    {
        _closed = reason;
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var waiter))
            {
                waiter.TrySetException(Unavailable(reason));
            }
        }
    }

    /// <inheritdoc/>
    public async Task<ShardInfo> PutAsync(ShardId id, Stream content, long? expectedLength = null, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var data = await ReadAllAsync(content, expectedLength, cancellationToken);
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        if (expectedSha256 is not null && !string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ShardCorruptException(id, expectedSha256, sha, "the bytes given to the edge node differ");
        }

        if (Interlocked.Add(ref _used, data.Length) > _capacity)
        {
            Interlocked.Add(ref _used, -data.Length);
            throw new ShardStoreFullException(data.Length);
        }

        var stored = false;
        try
        {
            var put = new ShardPut { ShardId = id.Value, Sha256 = sha, Data = UnsafeByteOperations.UnsafeWrap(data) };
            var response = await RequestAsync(new ShardRequest { Put = put }, cancellationToken);
            switch (response.Code)
            {
                case 200 when string.Equals(response.Sha256, sha, StringComparison.OrdinalIgnoreCase):
                    break;
                case 200 or 422:
                    throw new ShardCorruptException(id, sha, response.Sha256.Length == 0 ? null : response.Sha256, $"edge node '{_nodeId}' received different bytes");
                case 507:
                    throw new ShardStoreFullException(data.Length);
                default:
                    throw Refused("put", id, response);
            }

            var info = new ShardInfo(id, Volume, data.Length, sha, _time.GetUtcNow());
            if (_index.TryGetValue(id, out var replaced) && _index.TryUpdate(id, info, replaced))
            {
                Interlocked.Add(ref _used, -replaced.Length);
            }
            else
            {
                _index[id] = info;
            }

            stored = true;
            return info;
        }
        finally
        {
            if (!stored)
            {
                Interlocked.Add(ref _used, -data.Length);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        var data = await FetchAsync(id, cancellationToken);
        return new MemoryStream(data, writable: false);
    }

    /// <inheritdoc/>
    public Task<ShardInfo?> GetInfoAsync(ShardId id, CancellationToken cancellationToken = default) =>
        Task.FromResult(_index.TryGetValue(id, out var info) ? info : null);

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        if (!_index.TryRemove(id, out var info))
        {
            return false;
        }

        Interlocked.Add(ref _used, -info.Length);
        var response = await RequestAsync(new ShardRequest { Delete = new ShardDelete { ShardId = id.Value } }, cancellationToken);
        return response.Code is 200 or 404 ? true : throw Refused("delete", id, response);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ShardInfo> ListAsync(CancellationToken cancellationToken = default) => ListAsync(null, cancellationToken);

    /// <inheritdoc/>
    public async IAsyncEnumerable<ShardInfo> ListAsync(ShardId? after, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        foreach (var info in _index.Values.Where(i => after is not { } a || string.CompareOrdinal(i.Id.Value, a.Value) > 0).OrderBy(i => i.Id.Value, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return info;
        }
    }

    /// <inheritdoc/>
    public async Task<ShardScrubResult> ScrubAsync(ShardId id, CancellationToken cancellationToken = default)
    {
        if (!_index.TryGetValue(id, out var info))
        {
            return new ShardScrubResult(id, ShardHealthStatus.Missing, null, null);
        }

        try
        {
            await FetchAsync(id, cancellationToken);
            return new ShardScrubResult(id, ShardHealthStatus.Healthy, info.Sha256, info.Sha256);
        }
        catch (ShardCorruptException e)
        {
            return new ShardScrubResult(id, ShardHealthStatus.Corrupt, info.Sha256, e.ActualSha256);
        }
        catch (ShardNotFoundException)
        {
            return new ShardScrubResult(id, ShardHealthStatus.Missing, info.Sha256, null);
        }
    }

    /// <inheritdoc/>
    public async Task<ShardScrubReport> ScrubAllAsync(CancellationToken cancellationToken = default)
    {
        var unhealthy = new List<ShardScrubResult>();
        var bytes = 0L;
        var ids = _index.Keys.ToArray();
        foreach (var id in ids)
        {
            var result = await ScrubAsync(id, cancellationToken);
            if (result.Status != ShardHealthStatus.Healthy)
            {
                unhealthy.Add(result);
            }
            else if (_index.TryGetValue(id, out var info))
            {
                bytes += info.Length;
            }
        }

        return new ShardScrubReport(ids.Length, bytes, unhealthy, []);
    }

    /// <inheritdoc/>
    public Task<ShardStoreStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        var used = UsedBytes;
        return Task.FromResult(new ShardStoreStats([new ShardVolumeStats(Volume, $"p2p:{_nodeId}", _index.Count, used, Math.Max(0, _capacity - used))]));
    }

    private async Task<byte[]> FetchAsync(ShardId id, CancellationToken cancellationToken)
    {
        if (!_index.TryGetValue(id, out var info))
        {
            throw new ShardNotFoundException(id, _nodeId);
        }

        var response = await RequestAsync(new ShardRequest { Get = new ShardGet { ShardId = id.Value } }, cancellationToken);
        if (response.Code == 404)
        {
            throw new ShardNotFoundException(id, _nodeId);
        }

        if (response.Code != 200)
        {
            throw Refused("get", id, response);
        }

        // Hashed before any byte is handed on: an altered shard is a lost one, never data.
        var data = response.Data.Memory;
        var sha = Convert.ToHexStringLower(SHA256.HashData(data.Span));
        if (data.Length != info.Length || !string.Equals(sha, info.Sha256, StringComparison.Ordinal))
        {
            BridgeLog.EdgeShardAltered(_logger, id.Value, _nodeId, data.Length, info.Length);
            throw new ShardCorruptException(id, info.Sha256, sha, $"edge node '{_nodeId}' sent {data.Length} bytes for a {info.Length}-byte shard");
        }

        return response.Data.ToByteArray();
    }

    private async Task<ShardResponse> RequestAsync(ShardRequest request, CancellationToken cancellationToken)
    {
        if (_closed is { } reason)
        {
            throw Unavailable(reason);
        }

        request.RequestId = (ulong)Interlocked.Increment(ref _nextRequest);
        var waiter = new TaskCompletionSource<ShardResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[request.RequestId] = waiter;
        try
        {
            if (!_send(new GatewayMessage { Shard = request }))
            {
                throw Unavailable(_closed ?? "its queue of shard requests is full, it reads too slowly (Xmbl:Gateway:P2P:EdgeShardQueueBytes)");
            }

            if (_closed is { } closed)
            {
                throw Unavailable(closed);
            }

            return await waiter.Task.WaitAsync(_timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw Unavailable($"no answer within {_timeout.TotalSeconds:0.#} s (Xmbl:Gateway:P2P:EdgeShardTimeout)");
        }
        finally
        {
            _pending.TryRemove(request.RequestId, out _);
        }
    }

    private async Task<byte[]> ReadAllAsync(Stream content, long? expectedLength, CancellationToken cancellationToken)
    {
        if (expectedLength is { } declared)
        {
            if (declared > _maxShardBytes)
            {
                throw new ShardStoreFullException(declared);
            }

            var data = new byte[declared];
            await content.ReadExactlyAsync(data, cancellationToken);
            if (await content.ReadAsync(new byte[1], cancellationToken) != 0)
            {
                throw new IOException($"The shard is longer than the {declared} bytes declared.");
            }

            return data;
        }

        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var n = await content.ReadAsync(buffer.GetMemory(64 * 1024), cancellationToken);
            if (n == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(n);
            if (buffer.WrittenCount > _maxShardBytes)
            {
                throw new ShardStoreFullException(buffer.WrittenCount);
            }
        }
    }

    private ShardNodeUnavailableException Unavailable(string reason) => new(_nodeId, $"edge node: {reason}");

    private IOException Refused(string op, ShardId id, ShardResponse response) =>
        new($"Edge node '{_nodeId}' refused the {op} of shard '{id}': {response.Code} {response.Message}");
}
