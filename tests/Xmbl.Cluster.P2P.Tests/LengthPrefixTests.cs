using System.Buffers;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class LengthPrefixTests
{
    [Fact]
    public void TryParse_WholeMessage_SlicesPayloadAndEndsAfterIt()
    {
        var buffer = new ReadOnlySequence<byte>([0x03, 1, 2, 3, 0x01, 9]);
        Assert.Equal(LengthPrefixStatus.Complete, LengthPrefix.TryParse(buffer, 16, out var payload, out var end, out var length));
        Assert.Equal(3UL, length);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
        Assert.Equal(new byte[] { 0x01, 9 }, buffer.Slice(end).ToArray());
    }

    [Fact]
    public void TryParse_MessageSplitAcrossSegments_IsFoundWhole()
    {
        var buffer = Segments([0x82], [0x01], new byte[100], new byte[30]);
        Assert.Equal(LengthPrefixStatus.Complete, LengthPrefix.TryParse(buffer, 1000, out var payload, out var end, out _));
        Assert.Equal(130, payload.Length);
        Assert.Equal(buffer.End, end);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x80 })]        // prefix cut short
    [InlineData(new byte[] { 0x04, 1, 2 })]  // payload cut short
    public void TryParse_PartialMessage_AsksForMore(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(LengthPrefixStatus.Incomplete, LengthPrefix.TryParse(buffer, 16, out _, out var end, out _));
        Assert.Equal(buffer.Start, end);
    }

    [Fact]
    public void TryParse_DeclaredLengthOverLimit_IsRefusedBeforeThePayloadArrives()
    {
        var buffer = new ReadOnlySequence<byte>([0x11]);
        Assert.Equal(LengthPrefixStatus.TooLong, LengthPrefix.TryParse(buffer, 16, out _, out _, out var length));
        Assert.Equal(17UL, length);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80 })]  // longer than 5 bytes
    [InlineData(new byte[] { 0x80, 0x00 })]                    // not minimal
    public void TryParse_MalformedPrefix_IsBadPrefix(byte[] bytes)
        => Assert.Equal(LengthPrefixStatus.BadPrefix, LengthPrefix.TryParse(new ReadOnlySequence<byte>(bytes), 1 << 20, out _, out _, out _));

    [Fact]
    public void TryReadPrefix_AdvancesPastThePrefixOnly()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>([0x05, 7]));
        Assert.Equal(LengthPrefixStatus.Complete, LengthPrefix.TryReadPrefix(ref reader, 5, out var length));
        Assert.Equal(5UL, length);
        Assert.Equal(1, reader.Consumed);
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(part);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
