using System.Security.Cryptography;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P;

/// <summary>A libp2p peer id: the multihash of a peer's serialized <c>PublicKey</c>.</summary>
/// <remarks>
/// Keys of 42 bytes or fewer once serialized (Ed25519: 36) use the identity multihash, so the id holds the key itself
/// (<c>00 24 08 01 12 20 &lt;key&gt;</c>, base58btc <c>12D3KooW…</c>). Larger keys use sha2-256 (<c>Qm…</c>). Text is
/// base58btc; the CIDv1 form (<c>b…</c>, base32, codec libp2p-key) is accepted and can be written.
/// </remarks>
public sealed class PeerId : IEquatable<PeerId>
{
    private const byte IdentityHash = 0x00;
    private const byte Sha256Hash = 0x12;
    private const int LibP2pKeyCodec = 0x72;
    private const int MaxIdentityLength = 42;
    private const string Base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    private readonly byte[] _bytes;
    private readonly int _hash;
    private string? _text;

    private PeerId(byte[] bytes)
    {
        _bytes = bytes;
        var hash = new HashCode();
        hash.AddBytes(bytes);
        _hash = hash.ToHashCode();
    }

    /// <summary>The multihash bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The peer id of an Ed25519 public key.</summary>
    public static PeerId FromPublicKey(PublicIdentity key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return FromPublicKeyProto(PublicKeyProto.EncodeEd25519(key.Bytes));
    }

    /// <summary>The peer id of a serialized libp2p <c>PublicKey</c> protobuf.</summary>
    public static PeerId FromPublicKeyProto(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length <= MaxIdentityLength)
        {
            var bytes = new byte[2 + serialized.Length];
            bytes[0] = IdentityHash;
            bytes[1] = (byte)serialized.Length;
            serialized.CopyTo(bytes.AsSpan(2));
            return new PeerId(bytes);
        }

        var digest = new byte[2 + 32];
        digest[0] = Sha256Hash;
        digest[1] = 32;
        SHA256.HashData(serialized, digest.AsSpan(2));
        return new PeerId(digest);
    }

    /// <summary>Wraps multihash bytes, checking their shape.</summary>
    /// <exception cref="FormatException">Not an identity or sha2-256 multihash of the right length.</exception>
    public static PeerId FromBytes(ReadOnlySpan<byte> multihash)
    {
        if (multihash.Length < 2)
        {
            throw new FormatException("A peer id multihash is at least 2 bytes.");
        }

        var ok = multihash[0] switch
        {
            IdentityHash => multihash[1] <= MaxIdentityLength && multihash.Length == 2 + multihash[1],
            Sha256Hash => multihash[1] == 32 && multihash.Length == 34,
            _ => false,
        };
        return ok ? new PeerId(multihash.ToArray()) : throw new FormatException("A peer id is an identity or sha2-256 multihash.");
    }

    /// <summary>Parses base58btc (<c>12D3KooW…</c>, <c>Qm…</c>) or CIDv1 (<c>b…</c>) text.</summary>
    /// <exception cref="FormatException">Not a peer id.</exception>
    public static PeerId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length is 0 or > 128)
        {
            throw new FormatException("A peer id is 1 to 128 characters.");
        }

        if (text[0] == 'b')
        {
            var cid = DecodeBase32(text.AsSpan(1));
            var version = Varint.Read(cid, out var n, 2);
            var codec = Varint.Read(cid.AsSpan(n), out var m, 3);
            if (version != 1 || codec != LibP2pKeyCodec)
            {
                throw new FormatException("A CID peer id is CIDv1 with the libp2p-key codec (0x72).");
            }

            return FromBytes(cid.AsSpan(n + m));
        }

        return FromBytes(Base58.Decode(text));
    }

    /// <summary>Parses, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out PeerId? peer)
    {
        peer = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            peer = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The Ed25519 public key inside an identity-multihash id, or null.</summary>
    public PublicIdentity? TryGetPublicKey() =>
        _bytes[0] == IdentityHash && PublicKeyProto.TryDecodeEd25519(_bytes.AsSpan(2), out var key) ? key : null;

    /// <summary>The CIDv1 text form (multibase base32, codec libp2p-key), as <c>peerId.toCID().toString()</c> writes it.</summary>
    public string ToCidString()
    {
        var cid = new byte[2 + _bytes.Length];
        cid[0] = 1;
        cid[1] = LibP2pKeyCodec;
        _bytes.CopyTo(cid, 2);
        return "b" + EncodeBase32(cid);
    }

    /// <summary>The base58btc text form.</summary>
    public override string ToString() => _text ??= Base58.Encode(_bytes);

    /// <inheritdoc/>
    public bool Equals(PeerId? other) => other is not null && _hash == other._hash && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PeerId);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    private static string EncodeBase32(ReadOnlySpan<byte> data)
    {
        var chars = new char[(data.Length * 8 + 4) / 5];
        int buffer = 0, bits = 0, j = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[j++] = Base32Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            chars[j++] = Base32Alphabet[(buffer << (5 - bits)) & 31];
        }

        return new string(chars, 0, j);
    }

    private static byte[] DecodeBase32(ReadOnlySpan<char> text)
    {
        var output = new byte[text.Length * 5 / 8];
        int buffer = 0, bits = 0, j = 0;
        foreach (var c in text)
        {
            var v = c is >= 'a' and <= 'z' ? c - 'a' : c is >= '2' and <= '7' ? c - '2' + 26 : -1;
            if (v < 0)
            {
                throw new FormatException($"'{c}' is not a base32 character.");
            }

            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                output[j++] = (byte)(buffer >> (bits - 8));
                bits -= 8;
            }
        }

        return output;
    }
}

/// <summary>The libp2p <c>PublicKey</c> protobuf (<c>Type</c> = 1, <c>Data</c> = 2) for Ed25519 keys.</summary>
public static class PublicKeyProto
{
    /// <summary>Length of a serialized Ed25519 key: 36 bytes.</summary>
    public const int Ed25519Length = 36;

    /// <summary>Serializes an Ed25519 key: <c>08 01 12 20 &lt;32 bytes&gt;</c>.</summary>
    public static byte[] EncodeEd25519(ReadOnlySpan<byte> publicKey)
    {
        var bytes = new byte[Ed25519Length];
        bytes[0] = 0x08;
        bytes[1] = 0x01;
        bytes[2] = 0x12;
        bytes[3] = 0x20;
        publicKey.CopyTo(bytes.AsSpan(4));
        return bytes;
    }

    /// <summary>Decodes a serialized key; only valid Ed25519 keys are accepted.</summary>
    public static bool TryDecodeEd25519(ReadOnlySpan<byte> serialized, out PublicIdentity? key)
    {
        key = null;
        ulong type = ulong.MaxValue;
        var data = ReadOnlySpan<byte>.Empty;
        var reader = new ProtoReader(serialized);
        try
        {
            while (reader.TryReadTag(out var field, out var wire))
            {
                switch (field)
                {
                    case 1 when wire == ProtoReader.WireVarint:
                        type = reader.ReadVarint();
                        break;
                    case 2 when wire == ProtoReader.WireLength:
                        data = reader.ReadBytes();
                        break;
                    default:
                        reader.Skip(wire);
                        break;
                }
            }
        }
        catch (FormatException)
        {
            return false;
        }

        if (type != 1 || data.Length != 32)
        {
            return false;
        }

        try
        {
            key = new PublicIdentity(data);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
