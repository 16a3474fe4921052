using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.P2P.Messages;
using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.P2P.Yamux;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Policies;
using Xmbl.Cluster.Storage.Shards;
using Xmbl.Cluster.Storage.Streams;

namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>
/// <c>/xmbl/object/1.0.0</c>: put and get objects as the peer's account, streamed in body frames both ways. The same
/// <see cref="ObjectService"/> calls, policies and quotas as <c>PUT</c>/<c>GET /api/objects/{ns}/{name}</c>; the yamux
/// window paces the body, so memory does not grow with the object.
/// </summary>
internal sealed class ObjectProtocol(ObjectService objects, IOptions<P2PBridgeOptions> options, ILogger<ObjectProtocol> logger) : IBridgeProtocol
{
    public const string ProtocolId = "/xmbl/object/1.0.0";

    public string Id => ProtocolId;

    public async Task ServeAsync(YamuxStream stream, BridgePeer peer, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var request = await Framing.ReadMessageAsync(stream.Input, ObjectRequest.Parser, limits.MaxMessageBytes, ProtocolId, cancellationToken)
            ?? throw new BridgeProtocolException($"{ProtocolId}: the stream closed without a request.");
        try
        {
            switch (request.RequestCase)
            {
                case ObjectRequest.RequestOneofCase.Put:
                    await PutAsync(stream, request.Put, peer, limits, cancellationToken);
                    break;
                case ObjectRequest.RequestOneofCase.Get:
                    await GetAsync(stream, request.Get, peer, limits, cancellationToken);
                    break;
                default:
                    throw new BridgeProtocolException($"{ProtocolId}: a request with neither put nor get.");
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or ObjectDisposedException) && P2PBridge.Violation(e) is null && !cancellationToken.IsCancellationRequested)
        {
            BridgeLog.RequestFailed(logger, ProtocolId, peer.Account, e);
            await SendAsync(stream, Failure(503, $"The cluster could not serve the request now; nothing was stored: {e.Message}"), cancellationToken);
        }
    }

    private async Task PutAsync(YamuxStream stream, PutObject put, BridgePeer peer, P2PBridgeOptions limits, CancellationToken ct)
    {
        if (!ObjectKey.TryCreate(put.Namespace, put.Name, out var key, out var invalid))
        {
            await SendAsync(stream, Failure(400, invalid), ct);
            return;
        }

        var write = new ObjectWriteOptions(peer.Account, put.ContentType.Length == 0 ? "application/octet-stream" : put.ContentType)
        {
            ExpectedSha256 = put.Sha256.Length == 0 ? null : put.Sha256.ToLowerInvariant(),
        };
        long? declared = put.HasSize ? (long)Math.Min(put.Size, long.MaxValue) : null;
        var body = new FramedBodyStream(stream, limits.MaxFrameBytes, ProtocolId);
        ObjectResponse answer;
        try
        {
            var version = await objects.PutAsync(key, write, declared, body, ct);
            answer = declared is { } size && size != version.Manifest.Size
                ? Failure(400, $"The body has {version.Manifest.Size} bytes, not the {size} declared.")
                : new ObjectResponse { Object = ToInfo(version) };
        }
        catch (Exception e) when (P2PBridge.Violation(e) is not null)
        {
            // The peer broke the framing: its connection is closed, not answered.
            throw;
        }
        catch (ObjectPolicyException e)
        {
            answer = Failure(e.Decision.StatusCode, e.Decision.Reason);
        }
        catch (ObjectTooLargeException e)
        {
            answer = Failure(413, $"The object is larger than the {e.MaxSize} bytes allowed.");
        }
        catch (ObjectCorruptException) when (write.ExpectedSha256 is not null)
        {
            answer = Failure(400, $"The body does not hash to the sha256 given ({write.ExpectedSha256}); nothing was stored.");
        }
        catch (Exception e) when (e is InsufficientShardNodesException or ShardNodeUnavailableException)
        {
            answer = Failure(503, $"The upload could not be stored; nothing was committed: {e.Message}");
        }

        await SendAsync(stream, answer, ct);
    }

    private async Task GetAsync(YamuxStream stream, GetObject get, BridgePeer peer, P2PBridgeOptions limits, CancellationToken ct)
    {
        if (!ObjectKey.TryCreate(get.Namespace, get.Name, out var key, out var invalid))
        {
            await SendAsync(stream, Failure(400, invalid), ct);
            return;
        }

        // As over REST: the namespace's policy decides who reads; an object's owner always reads it.
        string? refused = null;
        try
        {
            objects.Authorize(key.Namespace, key.Name, peer.Account, ObjectOperations.Read);
        }
        catch (ObjectPolicyException e)
        {
            refused = e.Decision.Reason;
        }

        var version = await objects.GetAsync(key);
        if (refused is not null && (version is null || !string.Equals(version.Owner, peer.Account, StringComparison.Ordinal)))
        {
            await SendAsync(stream, Failure(403, refused), ct);
            return;
        }

        if (version is null)
        {
            await SendAsync(stream, Failure(404, $"No object {key}."), ct);
            return;
        }

        await SendAsync(stream, new ObjectResponse { Object = ToInfo(version) }, ct);
        await objects.ReadAsync(version, new FramedWriteStream(stream, limits.MaxFrameBytes), 0, version.Manifest.Size, ct);
        Framing.WriteFrame(stream.Output, []);
        await stream.Output.FlushAsync(ct);
    }

    private static async Task SendAsync(YamuxStream stream, ObjectResponse response, CancellationToken ct) =>
        await Framing.WriteMessageAsync(stream.Output, response, ct);

    private static ObjectResponse Failure(int code, string message) => new() { Error = BridgeErrors.Of(code, message) };

    private static ObjectInfo ToInfo(StoredObject version)
    {
        var m = version.Manifest;
        return new ObjectInfo
        {
            Namespace = m.Namespace,
            Name = m.Name,
            Size = (ulong)m.Size,
            ContentType = m.ContentType,
            Sha256 = m.Sha256,
            Version = version.VersionId,
            Owner = version.Owner,
        };
    }

    /// <summary>Writes what the object reader produces as body frames; each flush waits for the peer's window.</summary>
    private sealed class FramedWriteStream(YamuxStream stream, int maxFrame) : ForwardWriteStream
    {

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (!buffer.IsEmpty)
            {
                var n = Math.Min(maxFrame, buffer.Length);
                await Framing.WriteFrameAsync(stream.Output, buffer[..n], cancellationToken);
                buffer = buffer[n..];
            }
        }
    }
}
