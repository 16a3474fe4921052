using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Xmbl.Cluster.P2P.Noise;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P.Tests;

/// <summary>The Noise transport framing: <see cref="NoiseWriter"/> seals, <see cref="NoiseReader"/> opens.</summary>
[Trait("Suite", "BVT")]
public class NoiseTransportTests
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task NoiseWriter_SmallWritesThenOneFlush_FillsEveryFrameButTheLastToTheMaximum()
    {
        var raw = Unbounded();
        var writer = new NoiseWriter(raw.Writer, new NoiseCipher(_key));
        var data = RandomNumberGenerator.GetBytes(300_000);
        // A yamux-like pattern: 12-byte headers and odd-sized payloads, none aligned to a frame.
        for (var offset = 0; offset < data.Length;)
        {
            var n = Math.Min(data.Length - offset, offset % 7 == 0 ? 12 : 4099);
            writer.Write(data.AsSpan(offset, n));
            offset += n;
        }

        await writer.FlushAsync();
        var frames = await ReadFramesAsync(raw.Reader, expectedBytes: data.Length);

        Assert.Equal((data.Length + NoiseChannel.MaxPlaintext - 1) / NoiseChannel.MaxPlaintext, frames.Count);
        Assert.All(frames[..^1], f => Assert.Equal(NoiseHandshake.MaxMessageLength, f.Length));
        Assert.Equal(data, Open(frames));
    }

    [Fact]
    public async Task NoiseWriter_FlushWithLessThanAFrame_SealsItAsOneShortFrame()
    {
        var raw = Unbounded();
        var writer = new NoiseWriter(raw.Writer, new NoiseCipher(_key));
        writer.Write("ping"u8);
        await writer.FlushAsync();
        writer.Write("pong!"u8);
        await writer.FlushAsync();

        var frames = await ReadFramesAsync(raw.Reader, expectedBytes: 9);
        Assert.Equal([4 + NoiseCipher.TagLength, 5 + NoiseCipher.TagLength], frames.Select(f => f.Length));
        Assert.Equal("pingpong!"u8.ToArray(), Open(frames));
    }

    [Fact]
    public async Task NoiseWriter_SizeHintLargerThanItsBuffer_IsHonouredAndCutIntoFrames()
    {
        var raw = Unbounded();
        var writer = new NoiseWriter(raw.Writer, new NoiseCipher(_key));
        writer.Write(new byte[] { 1, 2, 3 });
        var span = writer.GetSpan(NoiseWriter.BufferSize * 2);
        Assert.True(span.Length >= NoiseWriter.BufferSize * 2);
        var data = RandomNumberGenerator.GetBytes(NoiseWriter.BufferSize * 2);
        data.CopyTo(span);
        writer.Advance(data.Length);
        await writer.FlushAsync();

        var frames = await ReadFramesAsync(raw.Reader, expectedBytes: data.Length + 3);
        Assert.Equal([1, 2, 3, .. data], Open(frames));
    }

    [Fact]
    public async Task NoiseWriter_Complete_SealsWhatIsLeftAndCompletesTheRawWriter()
    {
        var raw = Unbounded();
        var writer = new NoiseWriter(raw.Writer, new NoiseCipher(_key));
        writer.Write("bye"u8);
        await writer.CompleteAsync();

        await writer.Completion;
        var frames = await ReadFramesAsync(raw.Reader, expectedBytes: 3);
        Assert.Equal("bye"u8.ToArray(), Open(frames));
        var end = await raw.Reader.ReadAsync();
        Assert.True(end.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => writer.GetSpan());
    }

    [Fact]
    public async Task NoiseChannel_8MiBInRandomWritesAndFlushes_ArrivesByteIdenticalThroughRawBytesCutAnywhere()
    {
        var data = RandomNumberGenerator.GetBytes(8 << 20);
        var raw = Unbounded();
        var wire = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = new NoiseWriter(raw.Writer, new NoiseCipher(_key));
        var reader = new NoiseReader(wire.Reader, new NoiseCipher(_key));
        var random = new Random(7);

        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < data.Length;)
            {
                var n = Math.Min(data.Length - offset, random.Next(1, 300_000));
                writer.Write(data.AsSpan(offset, n));
                offset += n;
                if (random.Next(3) == 0)
                {
                    await writer.FlushAsync();
                }
            }

            await writer.CompleteAsync();
        });
        // The wire hands the reader the ciphertext in pieces that ignore frame boundaries (1 byte to 100 KB).
        var relay = Task.Run(async () =>
        {
            var cut = new Random(11);
            while (true)
            {
                var result = await raw.Reader.ReadAsync();
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    var piece = buffer.Slice(0, Math.Min(buffer.Length, cut.Next(1, 100_000)));
                    foreach (var segment in piece)
                    {
                        wire.Writer.Write(segment.Span);
                    }

                    await wire.Writer.FlushAsync();
                    buffer = buffer.Slice(piece.End);
                }

                raw.Reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    await wire.Writer.CompleteAsync();
                    return;
                }
            }
        });

        var received = new byte[data.Length];
        var total = 0;
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                segment.Span.CopyTo(received.AsSpan(total));
                total += segment.Length;
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await Task.WhenAll(send, relay);
        Assert.Equal(data.Length, total);
        Assert.True(data.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public async Task NoiseReader_PartlyExaminedBuffer_IsGivenAgainWithoutWaitingForTheSocket()
    {
        var wire = Unbounded();
        var sealer = new NoiseWriter(wire.Writer, new NoiseCipher(_key));
        sealer.Write("header+body"u8);
        await sealer.FlushAsync();
        var reader = new NoiseReader(wire.Reader, new NoiseCipher(_key));

        var first = await reader.ReadAsync();
        Assert.Equal(11, first.Buffer.Length);
        // Consume 6 bytes, examine 7: the rest is still unexamined, so the next read returns at once with it.
        reader.AdvanceTo(first.Buffer.GetPosition(6), first.Buffer.GetPosition(7));
        var second = reader.ReadAsync();
        Assert.True(second.IsCompleted);
        Assert.Equal("+body"u8.ToArray(), (await second).Buffer.ToArray());
        reader.AdvanceTo((await second).Buffer.End);

        // Everything examined: the next read waits for the next frame.
        var third = reader.ReadAsync();
        Assert.False(third.IsCompleted);
        sealer.Write("more"u8);
        await sealer.FlushAsync();
        Assert.Equal("more"u8.ToArray(), (await third).Buffer.ToArray());
    }

    [Fact]
    public async Task NoiseReader_TamperedFrame_FailsWithAProtocolError()
    {
        var wire = Unbounded();
        var sealer = new NoiseWriter(wire.Writer, new NoiseCipher(_key));
        sealer.Write(new byte[1000]);
        await sealer.FlushAsync();
        var result = await wire.Reader.ReadAsync();
        var frame = result.Buffer.ToArray();
        wire.Reader.AdvanceTo(result.Buffer.End);
        frame[500] ^= 1;
        var tampered = Unbounded();
        await tampered.Writer.WriteAsync(frame);

        var reader = new NoiseReader(tampered.Reader, new NoiseCipher(_key));
        var error = await Assert.ThrowsAsync<P2PProtocolException>(async () => await reader.ReadAsync());
        Assert.Contains("failed authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoiseReader_ConnectionEndingInsideAFrame_FailsWithAProtocolError()
    {
        var wire = Unbounded();
        var sealer = new NoiseWriter(wire.Writer, new NoiseCipher(_key));
        sealer.Write(new byte[1000]);
        await sealer.FlushAsync();
        var result = await wire.Reader.ReadAsync();
        var frame = result.Buffer.ToArray();
        wire.Reader.AdvanceTo(result.Buffer.End);
        var cut = Unbounded();
        await cut.Writer.WriteAsync(frame.AsMemory(0, 900));
        await cut.Writer.CompleteAsync();

        var reader = new NoiseReader(cut.Reader, new NoiseCipher(_key));
        var error = await Assert.ThrowsAsync<P2PProtocolException>(async () => await reader.ReadAsync());
        Assert.Contains("ended inside a frame", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task YamuxWriteData_OneLargeWrite_IsCutIntoFramesOfAtMost64KiBInOrder()
    {
        var pipe = Unbounded();
        var data = RandomNumberGenerator.GetBytes(YamuxStream.MaxWriteBatch + 1000);
        YamuxSession.WriteData(pipe.Writer, 5, data);
        await pipe.Writer.CompleteAsync();

        var bytes = (await pipe.Reader.ReadAsync()).Buffer.ToArray();
        var lengths = new List<int>();
        var payload = new List<byte>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var header = YamuxHeader.Read(bytes.AsSpan(offset));
            Assert.Equal((YamuxType.Data, YamuxFlags.None, 5u), (header.Type, header.Flags, header.StreamId));
            offset += YamuxHeader.Size;
            payload.AddRange(bytes.AsSpan(offset, (int)header.Length).ToArray());
            lengths.Add((int)header.Length);
            offset += (int)header.Length;
        }

        Assert.Equal([65536, 65536, 65536, 65536, 1000], lengths);
        Assert.Equal(data, payload);
    }

    // The tests flush before they read: a pipe that never pauses its writer.
    private static Pipe Unbounded() => new(new PipeOptions(pauseWriterThreshold: 0));

    private static async Task<List<byte[]>> ReadFramesAsync(PipeReader reader, int expectedBytes)
    {
        var frames = new List<byte[]>();
        var plain = 0;
        while (plain < expectedBytes)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            while (buffer.Length >= 2)
            {
                var prefix = buffer.Slice(0, 2).ToArray();
                var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
                if (buffer.Length < 2 + length)
                {
                    break;
                }

                frames.Add(buffer.Slice(2, length).ToArray());
                plain += length - NoiseCipher.TagLength;
                buffer = buffer.Slice(2 + length);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted && plain < expectedBytes, "The raw writer ended early.");
        }

        return frames;
    }

    private byte[] Open(List<byte[]> frames)
    {
        using var cipher = new NoiseCipher(_key);
        var plain = new List<byte>();
        foreach (var frame in frames)
        {
            var opened = new byte[frame.Length - NoiseCipher.TagLength];
            Assert.True(cipher.TryDecrypt([], frame, opened));
            plain.AddRange(opened);
        }

        return [.. plain];
    }
}
