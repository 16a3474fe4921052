using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Security.Cryptography;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Storage.Streams;

namespace Xmbl.Cluster.Gateway.Grpc;

/// <summary>
/// Signed gRPC calls (docs/api.md, "Signed gRPC calls"): the X-Xmbl-* headers travel as metadata and are checked by
/// <see cref="RequestSigning"/>, the REST scheme's own code, over method <c>POST</c>, the call's path and the SHA-256 of
/// the request message's bytes as received (<see cref="MessageHashTap"/>). Client-streamed uploads sign the object's
/// hash instead and are checked by the method once the header message names the object (<see cref="Check"/>).
/// </summary>
internal static class GrpcSigning
{
    /// <summary>The calls that change something: they must be signed. Reads may be, to act as an account.</summary>
    public static readonly FrozenSet<string> Changing = new[]
    {
        "/xmbl.v1.Modules/UploadModule",
        "/xmbl.v1.Jobs/SubmitJob",
        "/xmbl.v1.Jobs/CancelJob",
        "/xmbl.v1.Objects/PutObject",
        "/xmbl.v1.Objects/DeleteObject",
        "/xmbl.v1.Ledger/Transfer",
        "/xmbl.v1.Ledger/Mint",
        "/xmbl.v1.Ledger/Faucet",
        "/xmbl.v1.Nodes/StopNode",
        "/xmbl.v1.Nodes/StartNode",
        "/xmbl.v1.Nodes/UpdateNodeSettings",
        "/xmbl.v1.Nodes/LeaveNode",
        "/xmbl.v1.Storage/Repair",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The canonical target of a PutObject: the method's path, the namespace and the name, percent-encoded as RFC 3986 unreserved.</summary>
    public static string PutObjectTarget(string @namespace, string name) =>
        "/xmbl.v1.Objects/PutObject/" + @namespace + "/" + Uri.EscapeDataString(name);

    /// <summary>Sets the call's <see cref="Caller"/>, or throws UNAUTHENTICATED saying why (nothing has run).</summary>
    public static Caller Check(ServerCallContext context, string target, bool changes, string? contentSha256)
    {
        var http = context.GetHttpContext();
        var check = http.RequestServices.GetRequiredService<RequestSigning>()
            .CheckCall(target, http.Request.Headers, http.Connection.RemoteIpAddress, changes, contentSha256);
        if (check.Caller is not { } caller)
        {
            throw GrpcErrors.Unauthenticated(check.Reason!, check.Detail!);
        }

        http.Features.Set(caller);
        return caller;
    }

    /// <summary>The caller set by <see cref="Check"/> or <see cref="SigningInterceptor"/>.</summary>
    public static Caller CallerOf(ServerCallContext context) => Accounts.CallerOf(context.GetHttpContext());

    /// <summary>
    /// Middleware on the gRPC endpoints: for a signed call with one request message, hashes that message's bytes as the
    /// server reads them (the 5-byte frame header excluded), so the interceptor can compare them with the signed hash.
    /// </summary>
    public static async Task MessageHashTap(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc
            && grpc.Method.Type is MethodType.Unary or MethodType.ServerStreaming
            && context.Request.Headers.ContainsKey(RequestSignature.SignatureHeader))
        {
            var tap = new MessageHashStream(context.Request.Body);
            context.Features.Set(tap);
            context.Request.Body = tap;
        }

        await next(context);
    }

    /// <summary>The request body, passed through; the first message's payload is hashed on the way.</summary>
    internal sealed class MessageHashStream(Stream inner) : ForwardReadStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _header = new byte[5];
        private int _headerRead;
        private long _payloadLeft = -1;

        /// <summary>The payload's SHA-256 (hex) once the whole first message was read; null before.</summary>
        public string? Sha256 { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            Seen(buffer[..read]);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Seen(buffer.Span[..read]);
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }

        private void Seen(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0 && Sha256 is null)
            {
                if (_headerRead < _header.Length)
                {
                    var n = Math.Min(_header.Length - _headerRead, bytes.Length);
                    bytes[..n].CopyTo(_header.AsSpan(_headerRead));
                    _headerRead += n;
                    bytes = bytes[n..];
                    if (_headerRead == _header.Length)
                    {
                        _payloadLeft = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
                        Finish();
                    }

                    continue;
                }

                var take = (int)Math.Min(_payloadLeft, bytes.Length);
                _hash.AppendData(bytes[..take]);
                _payloadLeft -= take;
                bytes = bytes[take..];
                Finish();
            }
        }

        private void Finish()
        {
            if (_payloadLeft == 0)
            {
                Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
            }
        }
    }
}

/// <summary>Checks the signature of every call with one request message before the method runs (uploads check their own).</summary>
internal sealed class SigningInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    private static void Check(ServerCallContext context)
    {
        // The whole message was read before the method is called, so the tap's hash is final (an empty message: no tap bytes).
        var tap = context.GetHttpContext().Features.Get<GrpcSigning.MessageHashStream>();
        var hash = tap is null ? null : tap.Sha256 ?? RequestSignature.EmptyBodySha256;
        GrpcSigning.Check(context, context.Method, GrpcSigning.Changing.Contains(context.Method), hash);
    }
}
