using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Application;
using Xmbl.Cluster.Gateway.Grpc.V1;
using Xmbl.Cluster.Grains.Objects;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Storage.Objects;
using Xmbl.Cluster.Storage.Streams;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary>
/// <c>xmbl.v1.Objects</c>: streams objects in and out through the object service, as REST does: the same policies,
/// size limit and quotas, the same hash check before commit, and nothing visible from an upload that is cut off,
/// cancelled or past its deadline (the object writer deletes its shards and returns its stripe buffers).
/// </summary>
internal sealed class ObjectsGrpcService(ObjectService objects, Paging paging, IOptions<GrpcOptions> options) : Objects.ObjectsBase
{
    public override async Task<ObjectInfo> PutObject(IAsyncStreamReader<PutObjectRequest> requestStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct) || requestStream.Current.PartCase != PutObjectRequest.PartOneofCase.Header)
        {
            throw GrpcErrors.InvalidArgument("header", "The first message of a PutObject must be its header (namespace, name, content type, size, content_sha256).");
        }

        var header = requestStream.Current.Header;
        var key = Key(header.Namespace, header.Name, "header.");
        if (header.ContentSha256.Length > 0 && !RequestSignature.IsValidContentSha256(header.ContentSha256))
        {
            throw GrpcErrors.InvalidArgument("header.content_sha256", "header.content_sha256 must be the object's SHA-256 as 64 lower-case hex digits.");
        }

        if (header.HasSize && header.Size < 0)
        {
            throw GrpcErrors.InvalidArgument("header.size", "header.size cannot be negative.");
        }

        var caller = GrpcSigning.Check(context, GrpcSigning.PutObjectTarget(key.Namespace, key.Name), changes: true, contentSha256: null);
        if (caller.SignedContentSha256 is { } signed && header.ContentSha256.Length > 0 && !string.Equals(signed, header.ContentSha256, StringComparison.Ordinal))
        {
            throw GrpcErrors.Unauthenticated(RequestSigning.BodyMismatch, $"header.content_sha256 differs from the signed {RequestSignature.ContentSha256Header} ({signed}); nothing was stored.");
        }

        var expected = caller.SignedContentSha256 ?? (header.ContentSha256.Length > 0 ? header.ContentSha256 : null);
        var write = new ObjectWriteOptions(caller.Account, header.ContentType.Length > 0 ? header.ContentType : "application/octet-stream") { ExpectedSha256 = expected };
        await using var body = new ChunkReadStream(requestStream, header.HasSize ? header.Size : null, ct);
        try
        {
            return GrpcViews.Object(await objects.PutAsync(key, write, header.HasSize ? header.Size : null, body, ct));
        }
        catch (ObjectCorruptException) when (expected is not null && !ct.IsCancellationRequested)
        {
            // The writer compared the bytes with the hash before committing; its shards are gone.
            throw caller.SignedContentSha256 is not null
                ? GrpcErrors.Unauthenticated(RequestSigning.BodyMismatch, $"The object does not hash to the signed {RequestSignature.ContentSha256Header} ({expected}); nothing was stored.")
                : GrpcErrors.InvalidArgument("header.content_sha256", $"The object does not hash to header.content_sha256 ({expected}); nothing was stored.");
        }
    }

    public override async Task GetObject(GetObjectRequest request, IServerStreamWriter<GetObjectResponse> responseStream, ServerCallContext context)
    {
        var key = Key(request.Namespace, request.Name, "");
        var version = await objects.GetReadableAsync(key, GrpcSigning.CallerOf(context).Account);
        var size = version.Manifest.Size;
        if (request.Offset < 0 || request.Offset > size)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange, $"offset must be from 0 to the object's size, {size}."));
        }

        var length = request.HasLength ? request.Length : size - request.Offset;
        if (length < 0 || length > size - request.Offset)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange, $"length must be from 0 to {size - request.Offset} (the object has {size} bytes)."));
        }

        var ct = context.CancellationToken;
        await responseStream.WriteAsync(new GetObjectResponse { Info = GrpcViews.Object(version) }, ct);
        if (length == 0)
        {
            return;
        }

        using var chunks = new ChunkWriteStream(responseStream, options.Value.ChunkBytes);
        try
        {
            await objects.ReadAsync(version, chunks, request.Offset, length, ct);
            await chunks.CompleteAsync(ct);
        }
        catch (IOException ex) when (!ct.IsCancellationRequested)
        {
            // Chunks may have gone out: the status tells the client the stream is incomplete, never a wrong whole.
            throw GrpcErrors.Unavailable($"Object {key} cannot be read now: {ex.Message}");
        }
    }

    public override async Task<ObjectInfo> HeadObject(V1.ObjectAddress request, ServerCallContext context) =>
        GrpcViews.Object(await objects.GetReadableAsync(Key(request.Namespace, request.Name, ""), GrpcSigning.CallerOf(context).Account));

    public override async Task<ListObjectsResponse> ListObjects(ListObjectsRequest request, ServerCallContext context)
    {
        var take = JobsGrpcService.PageSize(paging, request.PageSize);
        var (items, next) = await objects.ListAsync(
            request.Namespace, GrpcSigning.CallerOf(context).Account, JobsGrpcService.Empty(request.Prefix), JobsGrpcService.Empty(request.PageToken), take, context.CancellationToken);
        var response = new ListObjectsResponse { NextPageToken = next ?? "" };
        response.Items.Add(items.Select(GrpcViews.Object));
        return response;
    }

    public override async Task<DeleteObjectResponse> DeleteObject(V1.ObjectAddress request, ServerCallContext context)
    {
        await objects.DeleteAsync(Key(request.Namespace, request.Name, ""), GrpcSigning.CallerOf(context).Account, context.CancellationToken);
        return new DeleteObjectResponse();
    }

    private static ObjectKey Key(string @namespace, string name, string prefix)
    {
        if (!ObjectKey.TryCreate(@namespace, name, out var key, out var error))
        {
            throw GrpcErrors.InvalidArgument(ObjectKey.IsValidNamespace(@namespace) ? prefix + "name" : prefix + "namespace", error);
        }

        return key;
    }

    /// <summary>The chunk messages after a PutObject's header, as a read-only stream (no copy beyond the caller's buffer).</summary>
    private sealed class ChunkReadStream(IAsyncStreamReader<PutObjectRequest> messages, long? declared, CancellationToken call) : ForwardReadStream
    {
        private ReadOnlyMemory<byte> _current;
        private long _read;
        private bool _ended;

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_current.IsEmpty)
            {
                if (_ended || !await messages.MoveNext(cancellationToken))
                {
                    // A cancelled call (RST_STREAM, or its deadline passed) can end the stream like a half-close:
                    // only a call still alive has sent its last byte, so nothing cut off is committed.
                    call.ThrowIfCancellationRequested();
                    _ended = true;
                    if (declared is { } size && _read != size)
                    {
                        throw GrpcErrors.InvalidArgument("header.size", $"The upload ended after {_read} bytes; header.size announced {size}. Nothing was stored.");
                    }

                    return 0;
                }

                if (messages.Current.PartCase != PutObjectRequest.PartOneofCase.Chunk)
                {
                    throw GrpcErrors.InvalidArgument("header", "Only the first message of a PutObject is a header; the others carry chunks.");
                }

                _current = messages.Current.Chunk.Memory;
            }

            var n = Math.Min(buffer.Length, _current.Length);
            _current.Span[..n].CopyTo(buffer.Span);
            _current = _current[n..];
            _read += n;
            if (declared is { } max && _read > max)
            {
                throw GrpcErrors.InvalidArgument("header.size", $"The upload passed the {max} bytes header.size announced. Nothing was stored.");
            }

            return n;
        }
    }

    /// <summary>
    /// Cuts what the object reader writes into chunk messages of one size. A whole chunk of the reader's bytes goes out
    /// as it is, wrapped, not copied; only the pieces are gathered in one reused buffer. Both are safe because each
    /// write is serialized before it completes.
    /// </summary>
    private sealed class ChunkWriteStream(IServerStreamWriter<GetObjectResponse> messages, int chunkBytes) : ForwardWriteStream
    {
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(chunkBytes);
        private int _filled;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(ChunkWriteStream));
            while (!source.IsEmpty)
            {
                if (_filled == 0 && source.Length >= chunkBytes)
                {
                    await messages.WriteAsync(new GetObjectResponse { Chunk = UnsafeByteOperations.UnsafeWrap(source[..chunkBytes]) }, cancellationToken);
                    source = source[chunkBytes..];
                    continue;
                }

                var n = Math.Min(chunkBytes - _filled, source.Length);
                source.Span[..n].CopyTo(buffer.AsSpan(_filled));
                _filled += n;
                source = source[n..];
                if (_filled == chunkBytes)
                {
                    await SendAsync(cancellationToken);
                }
            }
        }

        public Task CompleteAsync(CancellationToken cancellationToken) => _filled > 0 ? SendAsync(cancellationToken) : Task.CompletedTask;

        protected override void Dispose(bool disposing)
        {
            if (disposing && _buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }

            base.Dispose(disposing);
        }

        private async Task SendAsync(CancellationToken cancellationToken)
        {
            await messages.WriteAsync(new GetObjectResponse { Chunk = UnsafeByteOperations.UnsafeWrap(_buffer.AsMemory(0, _filled)) }, cancellationToken);
            _filled = 0;
        }
    }
}
