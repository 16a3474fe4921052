using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Multistream;

/// <summary>multistream-select 1.0: agreeing on a protocol for a connection or a stream.</summary>
/// <remarks>
/// Each message is <c>uvarint(len) || utf8 || '\n'</c>. The dialer sends the header and its proposal in one write and
/// reads the header and then the answer (an echo, or <c>na</c>). The listener answers the header, then each
/// proposal, until it echoes one it supports.
/// </remarks>
public static class MultistreamSelect
{
    /// <summary>The protocol header.</summary>
    public const string Header = "/multistream/1.0.0";

    /// <summary>The refusal.</summary>
    public const string NotAvailable = "na";

    /// <summary>The longest message accepted, newline included (js-libp2p's limit).</summary>
    public const int MaxMessageLength = 1024;

    /// <summary>The most proposals a listener answers with <c>na</c> before giving up on the dialer.</summary>
    public const int MaxProposals = 32;

    /// <summary>Proposes <paramref name="protocols"/> in order; returns the one accepted, or null when all were refused.</summary>
    /// <exception cref="P2PProtocolException">The listener answered with something else.</exception>
    public static async ValueTask<string?> SelectAsync(PipeReader reader, PipeWriter writer, IReadOnlyList<string> protocols, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(protocols);
        for (var i = 0; i < protocols.Count; i++)
        {
            if (i == 0)
            {
                WriteMessage(writer, Header);
            }

            WriteMessage(writer, protocols[i]);
            await writer.FlushAsync(cancellationToken);
            if (i == 0)
            {
                var header = await ReadMessageAsync(reader, cancellationToken);
                if (header != Header)
                {
                    throw new P2PProtocolException($"multistream-select: expected the header '{Header}', got '{Truncate(header)}'.");
                }
            }

            var answer = await ReadMessageAsync(reader, cancellationToken);
            if (answer == protocols[i])
            {
                return answer;
            }

            if (answer != NotAvailable)
            {
                throw new P2PProtocolException($"multistream-select: proposed '{protocols[i]}', got '{Truncate(answer)}'.");
            }
        }

        return null;
    }

    /// <summary>Answers a dialer until it proposes a protocol that <paramref name="isSupported"/> accepts; returns it.</summary>
    /// <exception cref="P2PProtocolException">A malformed message, no header, or more than <see cref="MaxProposals"/> refused proposals.</exception>
    public static async ValueTask<string> HandleAsync(PipeReader reader, PipeWriter writer, Func<string, bool> isSupported, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(isSupported);
        var header = await ReadMessageAsync(reader, cancellationToken);
        if (header != Header)
        {
            throw new P2PProtocolException($"multistream-select: expected the header '{Header}', got '{Truncate(header)}'.");
        }

        WriteMessage(writer, Header);
        await writer.FlushAsync(cancellationToken);
        for (var refused = 0; refused <= MaxProposals; refused++)
        {
            var proposal = await ReadMessageAsync(reader, cancellationToken);
            if (proposal != Header && proposal != NotAvailable && proposal != "ls" && isSupported(proposal))
            {
                WriteMessage(writer, proposal);
                await writer.FlushAsync(cancellationToken);
                return proposal;
            }

            WriteMessage(writer, NotAvailable);
            await writer.FlushAsync(cancellationToken);
        }

        throw new P2PProtocolException($"multistream-select: more than {MaxProposals} proposals refused.");
    }

    /// <summary>Writes one message (length prefix, text, newline) without flushing.</summary>
    public static void WriteMessage(PipeWriter writer, string message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        var length = Encoding.UTF8.GetByteCount(message) + 1;
        if (length > MaxMessageLength)
        {
            throw new ArgumentException($"A multistream-select message is at most {MaxMessageLength} bytes.", nameof(message));
        }

        var span = writer.GetSpan(length + 2);
        var n = Varint.Write(span, (ulong)length);
        n += Encoding.UTF8.GetBytes(message, span[n..]);
        span[n++] = (byte)'\n';
        writer.Advance(n);
    }

    /// <summary>Reads one message, without its newline.</summary>
    /// <exception cref="P2PProtocolException">Oversized, without a newline, or the stream ended.</exception>
    public static async ValueTask<string> ReadMessageAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryParse(ref buffer, out var message))
            {
                reader.AdvanceTo(buffer.Start);
                return message;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new P2PProtocolException("multistream-select: the stream ended during negotiation.");
            }
        }
    }

    private static bool TryParse(ref ReadOnlySequence<byte> buffer, out string message)
    {
        message = "";
        var reader = new SequenceReader<byte>(buffer);
        ulong length;
        try
        {
            if (!Varint.TryRead(ref reader, out length, 2))
            {
                return false;
            }
        }
        catch (FormatException e)
        {
            throw new P2PProtocolException("multistream-select: a bad length prefix.", e);
        }

        if (length is 0 or > MaxMessageLength)
        {
            throw new P2PProtocolException($"multistream-select: a message of {length} bytes (at most {MaxMessageLength}).");
        }

        if (reader.Remaining < (long)length)
        {
            return false;
        }

        var body = buffer.Slice(reader.Position, (long)length);
        Span<byte> bytes = stackalloc byte[MaxMessageLength];
        body.CopyTo(bytes);
        if (bytes[(int)length - 1] != (byte)'\n')
        {
            throw new P2PProtocolException("multistream-select: a message without its trailing newline.");
        }

        try
        {
            message = StrictUtf8.GetString(bytes[..((int)length - 1)]);
        }
        catch (DecoderFallbackException e)
        {
            throw new P2PProtocolException("multistream-select: a message that is not UTF-8.", e);
        }

        buffer = buffer.Slice(body.End);
        return true;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
