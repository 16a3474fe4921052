using System.Buffers;

namespace Xmbl.Cluster.P2P.Multiformats;

/// <summary>What <see cref="LengthPrefix"/> found at the front of a buffer.</summary>
public enum LengthPrefixStatus
{
    /// <summary>A whole prefix (and, for <see cref="LengthPrefix.TryParse"/>, its whole payload) is there.</summary>
    Complete,

    /// <summary>More bytes are needed.</summary>
    Incomplete,

    /// <summary>The prefix is no varint of at most <see cref="LengthPrefix.MaxPrefixBytes"/> bytes.</summary>
    BadPrefix,

    /// <summary>The prefix declares more than the allowed length.</summary>
    TooLong,
}

/// <summary>
/// The uvarint length prefix libp2p's protobuf protocols put before each message, parsed in place from a pipe's
/// buffer; each protocol adapter maps a bad status to its own exception.
/// </summary>
public static class LengthPrefix
{
    /// <summary>At most 5 bytes: enough for any length up to 2^35, so no limit we allow is ever cut off.</summary>
    public const int MaxPrefixBytes = 5;

    /// <summary>Reads a prefix at <paramref name="reader"/>, advancing past it when complete.</summary>
    /// <param name="reader">Where the prefix starts.</param>
    /// <param name="maxLength">The longest length allowed.</param>
    /// <param name="length">The declared length (also set for <see cref="LengthPrefixStatus.TooLong"/>).</param>
    public static LengthPrefixStatus TryReadPrefix(ref SequenceReader<byte> reader, int maxLength, out ulong length)
    {
        try
        {
            if (!Varint.TryRead(ref reader, out length, MaxPrefixBytes))
            {
                return LengthPrefixStatus.Incomplete;
            }
        }
        catch (FormatException)
        {
            length = 0;
            return LengthPrefixStatus.BadPrefix;
        }

        return length > (ulong)maxLength ? LengthPrefixStatus.TooLong : LengthPrefixStatus.Complete;
    }

    /// <summary>
    /// Finds one whole message at the front of <paramref name="buffer"/>: its payload (a slice, not a copy) and the
    /// position after it. A message over <paramref name="maxLength"/> is refused at its prefix, before it arrives.
    /// </summary>
    /// <param name="buffer">The bytes received so far.</param>
    /// <param name="maxLength">The longest payload allowed.</param>
    /// <param name="payload">The message's bytes, when complete.</param>
    /// <param name="end">The position after the message, when complete.</param>
    /// <param name="length">The declared length, once the prefix is read (for an error message on TooLong).</param>
    public static LengthPrefixStatus TryParse(
        ReadOnlySequence<byte> buffer, int maxLength, out ReadOnlySequence<byte> payload, out SequencePosition end, out ulong length)
    {
        payload = default;
        end = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        var status = TryReadPrefix(ref reader, maxLength, out length);
        if (status != LengthPrefixStatus.Complete)
        {
            return status;
        }

        if (reader.Remaining < (long)length)
        {
            return LengthPrefixStatus.Incomplete;
        }

        payload = buffer.Slice(reader.Position, (long)length);
        end = payload.End;
        return LengthPrefixStatus.Complete;
    }
}
