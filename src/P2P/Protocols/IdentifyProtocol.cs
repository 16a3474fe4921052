using System.Buffers;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P.Protocols;

/// <summary>What a peer says about itself over <c>/ipfs/id/1.0.0</c>.</summary>
/// <param name="PeerId">The peer, derived from <paramref name="PublicKey"/> and checked against the connection.</param>
/// <param name="PublicKey">The serialized libp2p <c>PublicKey</c>.</param>
/// <param name="ListenAddresses">Where it listens.</param>
/// <param name="Protocols">The protocols it serves.</param>
/// <param name="ObservedAddress">Our address as it sees it, if sent.</param>
/// <param name="ProtocolVersion">For example <c>ipfs/0.1.0</c>.</param>
/// <param name="AgentVersion">Its software, for example <c>js-libp2p/3.3.11</c>.</param>
public sealed record IdentifyInfo(PeerId PeerId, byte[] PublicKey, IReadOnlyList<Multiaddr> ListenAddresses, IReadOnlyList<string> Protocols, Multiaddr? ObservedAddress, string ProtocolVersion, string AgentVersion);

/// <summary><c>/ipfs/id/1.0.0</c>: one length-prefixed protobuf message from the responder, then FIN.</summary>
public static class IdentifyProtocol
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/ipfs/id/1.0.0";

    /// <summary>The protocol version we send.</summary>
    public const string ProtocolVersion = "ipfs/0.1.0";

    /// <summary>The largest Identify message accepted (js-libp2p's limit): 8 KiB.</summary>
    public const int MaxMessageLength = 8 * 1024;

    private const int MaxRepeated = 128;

    /// <summary>Asks the remote who it is.</summary>
    /// <exception cref="P2PProtocolException">Oversized, malformed, or a key that is not the connection's peer.</exception>
    public static async Task<IdentifyInfo> RequestAsync(P2PConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var stream = await connection.OpenStreamAsync(ProtocolId, cancellationToken);
        await stream.CloseWriteAsync();
        var reader = stream.Input;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryReadMessage(buffer, out var message, out var consumed))
            {
                reader.AdvanceTo(consumed);
                var info = Decode(message);
                return info.PeerId.Equals(connection.RemotePeer)
                    ? info
                    : throw new P2PProtocolException($"identify: the key sent is {info.PeerId}, not the connection's peer {connection.RemotePeer}.");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new P2PProtocolException("identify: the stream ended before a whole message.");
            }
        }
    }

    /// <summary>Answers with our identity, addresses and protocols.</summary>
    internal static async Task HandleAsync(P2PHost host, YamuxStream stream, P2PConnection connection, CancellationToken cancellationToken)
    {
        var message = new ProtoWriter().Bytes(1, PublicKeyProto.EncodeEd25519(host.PublicKey.Bytes));
        foreach (var address in host.ListenAddresses)
        {
            message.Bytes(2, address.WithoutPeerId().Bytes);
        }

        foreach (var protocol in host.Protocols)
        {
            message.String(3, protocol);
        }

        message.Bytes(4, connection.RemoteAddress.Bytes).String(5, ProtocolVersion).String(6, host.Options.AgentVersion);
        var body = message.WrittenSpan;
        var framed = new byte[Varint.GetLength((ulong)body.Length) + body.Length];
        var n = Varint.Write(framed, (ulong)body.Length);
        body.CopyTo(framed.AsSpan(n));
        await stream.WriteAsync(framed, cancellationToken);
        await stream.CloseWriteAsync();
    }

    /// <summary>Decodes an Identify message.</summary>
    /// <exception cref="P2PProtocolException">Malformed, or without a valid Ed25519 public key.</exception>
    public static IdentifyInfo Decode(ReadOnlySpan<byte> message)
    {
        byte[]? key = null;
        var addresses = new List<Multiaddr>();
        var protocols = new List<string>();
        Multiaddr? observed = null;
        string protocolVersion = "", agentVersion = "";
        try
        {
            var reader = new ProtoReader(message);
            while (reader.TryReadTag(out var field, out var wire))
            {
                if (wire != ProtoReader.WireLength)
                {
                    reader.Skip(wire);
                    continue;
                }

                switch (field)
                {
                    case 1: key = reader.ReadBytes().ToArray(); break;
                    case 2:
                        var address = reader.ReadBytes();
                        if (addresses.Count < MaxRepeated)
                        {
                            // An address we cannot parse (a transport we lack) is skipped, not fatal.
                            try
                            {
                                addresses.Add(Multiaddr.FromBytes(address));
                            }
                            catch (FormatException)
                            {
                            }
                        }

                        break;
                    case 3:
                        var protocol = reader.ReadString();
                        if (protocols.Count >= MaxRepeated)
                        {
                            throw new P2PProtocolException($"identify: more than {MaxRepeated} protocols.");
                        }

                        protocols.Add(protocol);
                        break;
                    case 4:
                        var bytes = reader.ReadBytes();
                        try
                        {
                            observed = Multiaddr.FromBytes(bytes);
                        }
                        catch (FormatException)
                        {
                        }

                        break;
                    case 5: protocolVersion = reader.ReadString(); break;
                    case 6: agentVersion = reader.ReadString(); break;
                    default: reader.Skip(wire); break;
                }
            }
        }
        catch (FormatException e)
        {
            throw new P2PProtocolException("identify: a malformed message.", e);
        }

        if (key is null || !PublicKeyProto.TryDecodeEd25519(key, out var publicKey))
        {
            throw new P2PProtocolException("identify: no valid Ed25519 publicKey in the message.");
        }

        return new IdentifyInfo(PeerId.FromPublicKey(publicKey!), key, addresses, protocols, observed, protocolVersion, agentVersion);
    }

    private static bool TryReadMessage(ReadOnlySequence<byte> buffer, out byte[] message, out SequencePosition consumed)
    {
        message = [];
        consumed = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        ulong length;
        try
        {
            if (!Varint.TryRead(ref reader, out length, 3))
            {
                return false;
            }
        }
        catch (FormatException e)
        {
            throw new P2PProtocolException("identify: a bad length prefix.", e);
        }

        if (length > MaxMessageLength)
        {
            throw new P2PProtocolException($"identify: a {length}-byte message (at most {MaxMessageLength}).");
        }

        if (reader.Remaining < (long)length)
        {
            return false;
        }

        message = buffer.Slice(reader.Position, (long)length).ToArray();
        consumed = buffer.GetPosition((long)length, reader.Position);
        return true;
    }
}
