using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Xmbl.Cluster.Gateway.Grpc;
using Xmbl.Cluster.Gateway.Grpc.V1;
using Xmbl.Cluster.Storage.Objects;
using GrpcCluster = Xmbl.Cluster.Gateway.Grpc.V1.Cluster;

namespace Xmbl.Cluster.Gateway.Interop.Tests;

/// <summary>
/// Uploads cut off by the client (cancel, deadline) against an in-process silo, whose stripe buffer pool the test reads;
/// the gRPC limits; health and reflection. The client is Grpc.Net.Client over h2c.
/// </summary>
public sealed class GrpcCancellationAndLimitTests : IAsyncLifetime
{
    private const int Chunk = 1 << 20;
    private InProcessGateway? _gateway;

    private InProcessGateway Gateway => _gateway!;

    public async Task InitializeAsync() => _gateway = await InProcessGateway.StartAsync();

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task ClientCancellingMidUpload_LeavesNoObjectAndNoRentedStripeBuffers()
    {
        var pool = Gateway.Service<StripeBufferPool>();
        var rentsBefore = pool.TotalRents;
        using var cancel = new CancellationTokenSource();
        var objects = new Objects.ObjectsClient(Gateway.Channel);
        using var call = objects.PutObject(cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(Header("cancelled.bin", 64L << 20));
        await SendAsync(call, 20);

        // The writer is at work (stripes rented) when the client goes away.
        await WaitUntilAsync(() => pool.TotalRents > rentsBefore, "the object writer to rent stripe buffers");
        await cancel.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);

        await AssertNothingLeftAsync(pool, "cancelled.bin");
    }

    [Fact]
    public async Task DeadlinePassingMidUpload_LeavesNoObjectAndNoRentedStripeBuffers()
    {
        var pool = Gateway.Service<StripeBufferPool>();
        var rentsBefore = pool.TotalRents;
        var objects = new Objects.ObjectsClient(Gateway.Channel);
        using var call = objects.PutObject(deadline: DateTime.UtcNow.AddSeconds(3));
        await call.RequestStream.WriteAsync(Header("late.bin", 64L << 20));
        await SendAsync(call, 20);
        await WaitUntilAsync(() => pool.TotalRents > rentsBefore, "the object writer to rent stripe buffers");

        // The client stalls: the deadline passes with the upload two thirds short.
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);

        await AssertNothingLeftAsync(pool, "late.bin");
    }

    [Fact]
    public async Task UploadWithoutSizeCutOffByCancel_IsNotCommittedAsATruncatedObject()
    {
        // No size and no hash announced: only the call's cancellation tells a cut-off stream from a finished one.
        var pool = Gateway.Service<StripeBufferPool>();
        using var cancel = new CancellationTokenSource();
        var objects = new Objects.ObjectsClient(Gateway.Channel);
        using var call = objects.PutObject(cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(new PutObjectRequest { Header = new PutObjectHeader { Namespace = "docs", Name = "unsized.bin" } });
        await SendAsync(call, 7);
        await Task.Delay(300);
        await cancel.CancelAsync();
        await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        await AssertNothingLeftAsync(pool, "unsized.bin");
    }

    [Fact]
    public async Task ChunkLargerThanTheMessageLimit_IsResourceExhausted()
    {
        var objects = new Objects.ObjectsClient(Gateway.Channel);
        using var call = objects.PutObject();
        await call.RequestStream.WriteAsync(Header("huge-chunk.bin", 5L << 20));
        var tooBig = new byte[GrpcOptions.DefaultMaxMessageBytes + 1];
        try
        {
            await call.RequestStream.WriteAsync(new PutObjectRequest { Chunk = UnsafeByteOperations.UnsafeWrap(tooBig) });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may end the call before the client finished writing; the status is read below.
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await AssertNothingLeftAsync(Gateway.Service<StripeBufferPool>(), "huge-chunk.bin");
    }

    [Fact]
    public async Task SmallUploadAndRead_RoundTripOverGrpcNetClient()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("xmbl gRPC ", 100_000)));
        var objects = new Objects.ObjectsClient(Gateway.Channel);
        using (var call = objects.PutObject())
        {
            await call.RequestStream.WriteAsync(Header("small.txt", bytes.Length));
            for (var offset = 0; offset < bytes.Length; offset += 100_000)
            {
                await call.RequestStream.WriteAsync(new PutObjectRequest { Chunk = ByteString.CopyFrom(bytes, offset, Math.Min(100_000, bytes.Length - offset)) });
            }

            await call.RequestStream.CompleteAsync();
            Assert.Equal(bytes.Length, (await call.ResponseAsync).Size);
        }

        using var read = objects.GetObject(new GetObjectRequest { Namespace = "docs", Name = "small.txt", Offset = 10, Length = 1000 });
        var received = new MemoryStream();
        ObjectInfo? info = null;
        await foreach (var message in read.ResponseStream.ReadAllAsync())
        {
            if (message.PartCase == GetObjectResponse.PartOneofCase.Info)
            {
                info = message.Info;
            }
            else
            {
                message.Chunk.WriteTo(received);
            }
        }

        Assert.Equal(bytes.Length, info!.Size);
        Assert.Equal(bytes.AsSpan(10, 1000).ToArray(), received.ToArray());
    }

    [Fact]
    public async Task HealthService_ReportsServingAsHealthzDoes()
    {
        var health = new Health.HealthClient(Gateway.Channel);
        var answer = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, answer.Status);
        using var http = new HttpClient();
        Assert.Equal("ok", await http.GetStringAsync(new Uri(Gateway.HttpUrl + "/healthz")));
    }

    [Fact]
    public async Task Reflection_ListsTheXmblServices()
    {
        var reflection = new ServerReflection.ServerReflectionClient(Gateway.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("xmbl.v1.Jobs", names);
        Assert.Contains("xmbl.v1.Objects", names);
        Assert.Contains("xmbl.v1.Cluster", names);
        Assert.Contains("grpc.health.v1.Health", names);
    }

    [Fact]
    public async Task ClusterView_ShowsTheGrpcAddressOverRestAndGrpc()
    {
        var cluster = await new GrpcCluster.ClusterClient(Gateway.Channel).GetClusterAsync(new GetClusterRequest());
        Assert.Equal(Gateway.GrpcUrl, cluster.Grpc);
        Assert.Equal(3, cluster.Nodes.Count);
        using var http = new HttpClient();
        Assert.Contains($"\"grpc\":\"{Gateway.GrpcUrl}\"", await http.GetStringAsync(new Uri(Gateway.HttpUrl + "/api/cluster")), StringComparison.Ordinal);
    }

    [Fact]
    public void ConcurrentStreams_TakeTheConfiguredDefault()
    {
        var kestrel = Gateway.Service<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(GrpcOptions.DefaultMaxConcurrentStreams, kestrel.Limits.Http2.MaxStreamsPerConnection);
    }

    [Fact]
    public void Http2ReceiveWindows_TakeTheConfiguredDefaults()
    {
        var http2 = Gateway.Service<IOptions<KestrelServerOptions>>().Value.Limits.Http2;
        Assert.Equal(GrpcOptions.DefaultStreamWindowBytes, http2.InitialStreamWindowSize);
        Assert.Equal(GrpcOptions.DefaultConnectionWindowBytes, http2.InitialConnectionWindowSize);
    }

    [Fact]
    public async Task ConnectionWindowSmallerThanTheStreamWindow_StopsTheStartNamingTheKey()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => InProcessGateway.StartAsync("--Xmbl:Gateway:Grpc:ConnectionWindowBytes", "100000"));
        Assert.Contains("Xmbl:Gateway:Grpc:ConnectionWindowBytes", refused.Message, StringComparison.Ordinal);
    }

    private static PutObjectRequest Header(string name, long size) =>
        new() { Header = new PutObjectHeader { Namespace = "docs", Name = name, Size = size } };

    private static async Task SendAsync(AsyncClientStreamingCall<PutObjectRequest, ObjectInfo> call, int mebibytes)
    {
        var chunk = new byte[Chunk];
        Random.Shared.NextBytes(chunk);
        for (var i = 0; i < mebibytes; i++)
        {
            await call.RequestStream.WriteAsync(new PutObjectRequest { Chunk = UnsafeByteOperations.UnsafeWrap(chunk) });
        }
    }

    private async Task AssertNothingLeftAsync(StripeBufferPool pool, string name)
    {
        // The server notices the cut on its side a moment later; the writer then deletes its shards and returns its buffers.
        await WaitUntilAsync(() => pool.RentedCount == 0, "every stripe buffer to come back");
        Assert.Equal(0, pool.RentedBytes);
        var head = await Assert.ThrowsAsync<RpcException>(() => new Objects.ObjectsClient(Gateway.Channel).HeadObjectAsync(new ObjectAddress { Namespace = "docs", Name = name }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, head.StatusCode);
        using var http = new HttpClient();
        using var rest = await http.GetAsync(new Uri($"{Gateway.HttpUrl}/api/objects/docs/{name}"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, rest.StatusCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
