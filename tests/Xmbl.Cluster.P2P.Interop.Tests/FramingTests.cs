using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using Xmbl.Cluster.Gateway.P2P;
using Xmbl.Cluster.Gateway.P2P.Messages;

namespace Xmbl.Cluster.P2P.Interop.Tests;

/// <summary>The bridge's message framing on a pipe that, like a yamux stream's window, holds only so much unread.</summary>
[Trait("Suite", "BVT")]
public sealed class FramingTests
{
    [Fact]
    public async Task AMessageLongerThanTheStreamWindow_IsConsumedAsItArrives_AndParsedWhole()
    {
        // The writer stalls once 64 KiB are unread, as a peer does when the yamux window is used up.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024));
        var shard = new byte[1 << 20];
        Random.Shared.NextBytes(shard);
        var message = new NodeMessage { Shard = new ShardResponse { RequestId = 7, Code = 200, Data = ByteString.CopyFrom(shard) } };
        var writing = Task.Run(async () =>
        {
            var size = message.CalculateSize();
            var bytes = new byte[Xmbl.Cluster.P2P.Multiformats.Varint.GetLength((ulong)size) + size];
            var n = Xmbl.Cluster.P2P.Multiformats.Varint.Write(bytes, (ulong)size);
            message.WriteTo(bytes.AsSpan(n));
            for (var offset = 0; offset < bytes.Length; offset += 16 * 1024)
            {
                await pipe.Writer.WriteAsync(bytes.AsMemory(offset, Math.Min(16 * 1024, bytes.Length - offset)));
            }

            await pipe.Writer.CompleteAsync();
        });

        var read = await Framing.ReadMessageAsync(pipe.Reader, NodeMessage.Parser, 2 << 20, "test", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await writing;

        Assert.Equal(shard, read!.Shard.Data.ToByteArray());
        Assert.Null(await Framing.ReadMessageAsync(pipe.Reader, NodeMessage.Parser, 2 << 20, "test", CancellationToken.None));
    }

    [Fact]
    public async Task ALargeMessageCutShort_ClosesWithTheReason()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { 0x80, 0x80, 0x08 }); // declares 131072 bytes
        await pipe.Writer.WriteAsync(new byte[1000]);
        await pipe.Writer.CompleteAsync();

        var e = await Assert.ThrowsAsync<BridgeProtocolException>(() => Framing.ReadMessageAsync(pipe.Reader, NodeMessage.Parser, 1 << 20, "test", CancellationToken.None).AsTask());
        Assert.Contains("ended inside a message", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyFrame_ReachesTheStreamAsOneWrite_NotAsTheWritersSegments()
    {
        // Buffered as a yamux stream's Output buffers: a 1 MiB frame copied through it reached yamux as 256 4 KiB
        // writes, each a wake-up of the session writer and a Noise frame of its own.
        var stream = new RecordingStream();
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);

        await Framing.WriteFrameAsync(writer, data, CancellationToken.None);
        Framing.WriteFrame(writer, []);
        await writer.FlushAsync();

        Assert.Equal(3, stream.Writes.Count);
        Assert.Equal(data.Length, stream.Writes[1]);
        var reader = PipeReader.Create(new ReadOnlySequence<byte>(stream.Bytes.ToArray()));
        var read = new byte[data.Length + 1];
        var state = new FrameState();
        var filled = 0;
        for (int n; (n = await Framing.ReadFrameAsync(reader, read.AsMemory(filled), state, 1 << 20, "test", CancellationToken.None)) > 0;)
        {
            filled += n;
        }

        Assert.True(state.Ended);
        Assert.Equal(data, read.AsSpan(0, filled).ToArray());
    }

    [Fact]
    public async Task ALargeMessage_ReachesTheStreamAsOneWrite_AndParsesBack()
    {
        var stream = new RecordingStream();
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        var output = new byte[1 << 20];
        Random.Shared.NextBytes(output);
        var message = new JobResponse { Output = ByteString.CopyFrom(output) };

        await Framing.WriteMessageAsync(writer, message, CancellationToken.None);
        await Framing.WriteMessageAsync(writer, new JobResponse { Output = ByteString.CopyFromUtf8("small") }, CancellationToken.None);

        Assert.Equal(3, stream.Writes.Count);
        var reader = PipeReader.Create(new ReadOnlySequence<byte>(stream.Bytes.ToArray()));
        var first = await Framing.ReadMessageAsync(reader, JobResponse.Parser, 2 << 20, "test", CancellationToken.None);
        var second = await Framing.ReadMessageAsync(reader, JobResponse.Parser, 2 << 20, "test", CancellationToken.None);
        Assert.Equal(output, first!.Output.ToByteArray());
        Assert.Equal("small", second!.Output.ToStringUtf8());
    }

    private sealed class RecordingStream : Stream
    {
        public List<int> Writes { get; } = [];

        public MemoryStream Bytes { get; } = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.Length);
            Bytes.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
