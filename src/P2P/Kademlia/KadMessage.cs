using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Kademlia;

/// <summary>Kademlia RPC types (<c>Message.MessageType</c>).</summary>
public enum KadMessageType
{
    /// <summary>Store a record.</summary>
    PutValue = 0,
    /// <summary>Fetch a record.</summary>
    GetValue = 1,
    /// <summary>Announce that the sender provides a key.</summary>
    AddProvider = 2,
    /// <summary>Ask who provides a key.</summary>
    GetProviders = 3,
    /// <summary>Ask for the peers closest to a key.</summary>
    FindNode = 4,
    /// <summary>Deprecated liveness check.</summary>
    Ping = 5,
}

/// <summary>A peer as Kademlia messages carry it: its id and where it listens.</summary>
/// <param name="Id">The peer.</param>
/// <param name="Addresses">Its addresses, without <c>/p2p</c>.</param>
public sealed record KadPeer(PeerId Id, IReadOnlyList<Multiaddr> Addresses);

/// <summary>The <c>/ipfs/kad/1.0.0</c> protobuf <c>Message</c> (records are not supported and are skipped).</summary>
/// <param name="Type">The RPC.</param>
/// <param name="Key">The key: a peer id's bytes for FIND_NODE, a multihash for provider records.</param>
/// <param name="CloserPeers">Peers closer to the key.</param>
/// <param name="ProviderPeers">Providers of the key.</param>
public sealed record KadMessage(KadMessageType Type, byte[] Key, IReadOnlyList<KadPeer> CloserPeers, IReadOnlyList<KadPeer> ProviderPeers)
{
    /// <summary>Most peers accepted in one list.</summary>
    public const int MaxPeersPerList = 64;

    /// <summary>Most addresses kept per peer.</summary>
    public const int MaxAddressesPerPeer = 16;

    /// <summary>Serializes the message (without the length prefix).</summary>
    public byte[] Encode()
    {
        var writer = new ProtoWriter().Varint(1, (ulong)Type).Bytes(2, Key);
        foreach (var peer in CloserPeers)
        {
            writer.Bytes(8, EncodePeer(peer));
        }

        foreach (var peer in ProviderPeers)
        {
            writer.Bytes(9, EncodePeer(peer));
        }

        return writer.ToArray();
    }

    /// <summary>Decodes a message; peers with unusable ids are dropped, addresses we cannot parse are skipped.</summary>
    /// <exception cref="P2PProtocolException">Malformed, or more peers than <see cref="MaxPeersPerList"/>.</exception>
    public static KadMessage Decode(ReadOnlySpan<byte> bytes)
    {
        var type = -1;
        byte[] key = [];
        var closer = new List<KadPeer>();
        var providers = new List<KadPeer>();
        try
        {
            var reader = new ProtoReader(bytes);
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == ProtoReader.WireVarint:
                        var value = reader.ReadVarint();
                        type = value <= (ulong)KadMessageType.Ping ? (int)value : throw new P2PProtocolException($"kad: unknown message type {value}.");
                        break;
                    case 2 when wire == ProtoReader.WireLength:
                        key = reader.ReadBytes().ToArray();
                        break;
                    case 8 when wire == ProtoReader.WireLength:
                        AddPeer(closer, reader.ReadBytes());
                        break;
                    case 9 when wire == ProtoReader.WireLength:
                        AddPeer(providers, reader.ReadBytes());
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (FormatException e)
        {
            throw new P2PProtocolException("kad: a malformed message.", e);
        }

        return type < 0
            ? throw new P2PProtocolException("kad: a message without a type.")
            : new KadMessage((KadMessageType)type, key, closer, providers);
    }

    private static byte[] EncodePeer(KadPeer peer)
    {
        var writer = new ProtoWriter().Bytes(1, peer.Id.Bytes);
        foreach (var address in peer.Addresses)
        {
            writer.Bytes(2, address.WithoutPeerId().Bytes);
        }

        return writer.ToArray();
    }

    private static void AddPeer(List<KadPeer> peers, ReadOnlySpan<byte> bytes)
    {
        if (peers.Count >= MaxPeersPerList)
        {
            throw new P2PProtocolException($"kad: more than {MaxPeersPerList} peers in one list.");
        }

        PeerId? id = null;
        var addresses = new List<Multiaddr>();
        var reader = new ProtoReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == ProtoReader.WireLength)
            {
                var raw = reader.ReadBytes();
                try
                {
                    id = PeerId.FromBytes(raw);
                }
                catch (FormatException)
                {
                    id = null;
                }
            }
            else if (field == 2 && wire == ProtoReader.WireLength)
            {
                var raw = reader.ReadBytes();
                if (addresses.Count < MaxAddressesPerPeer)
                {
                    try
                    {
                        addresses.Add(Multiaddr.FromBytes(raw));
                    }
                    catch (FormatException)
                    {
                        // A transport we do not speak (QUIC, WebSockets, …).
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        if (id is not null)
        {
            peers.Add(new KadPeer(id, addresses));
        }
    }
}
