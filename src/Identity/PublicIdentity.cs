using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Xmbl.Cluster.Identity;

/// <summary>An Ed25519 public key, written as a <c>did:key</c> identifier (<c>did:key:z6Mk…</c>).</summary>
public sealed class PublicIdentity : IEquatable<PublicIdentity>
{
    private const string DidKeyPrefix = "did:key:z";

    // Multicodec "ed25519-pub" (0xed) as an unsigned varint: 0xed 0x01.
    private static readonly byte[] Ed25519Multicodec = [0xED, 0x01];

    private readonly byte[] _key;

    /// <summary>Wraps a 32-byte Ed25519 public key.</summary>
    public PublicIdentity(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Ed25519KeyPair.KeyLength)
        {
            throw new ArgumentException($"An Ed25519 public key is {Ed25519KeyPair.KeyLength} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        _key = publicKey.ToArray();
        Did = DidKeyPrefix + Base58.Encode([.. Ed25519Multicodec, .. _key]);
    }

    /// <summary>The <c>did:key</c> form of the key.</summary>
    public string Did { get; }

    /// <summary>The raw 32 key bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _key;

    /// <summary>Parses a <c>did:key</c> identifier of an Ed25519 key.</summary>
    /// <exception cref="FormatException">Not a did:key, or not an Ed25519 key.</exception>
    public static PublicIdentity ParseDid(string did)
    {
        ArgumentNullException.ThrowIfNull(did);
        if (!did.StartsWith(DidKeyPrefix, StringComparison.Ordinal))
        {
            throw new FormatException("A did:key identifier starts with 'did:key:z' (base58btc multibase).");
        }

        var decoded = Base58.Decode(did[DidKeyPrefix.Length..]);
        if (decoded.Length != Ed25519Multicodec.Length + Ed25519KeyPair.KeyLength
            || decoded[0] != Ed25519Multicodec[0] || decoded[1] != Ed25519Multicodec[1])
        {
            throw new FormatException("The did:key identifier does not hold an Ed25519 public key.");
        }

        return new PublicIdentity(decoded.AsSpan(Ed25519Multicodec.Length));
    }

    /// <summary>Parses a did:key, returning false instead of throwing.</summary>
    public static bool TryParseDid(string? did, out PublicIdentity? identity)
    {
        identity = null;
        if (did is null)
        {
            return false;
        }

        try
        {
            identity = ParseDid(did);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Checks a signature over a message; false for any bad signature, never throws for bad input.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Ed25519KeyPair.SignatureLength)
        {
            return false;
        }

        var verifier = new Ed25519Signer();
        verifier.Init(forSigning: false, new Ed25519PublicKeyParameters(_key, 0));
        var bytes = message.ToArray();
        verifier.BlockUpdate(bytes, 0, bytes.Length);
        return verifier.VerifySignature(signature.ToArray());
    }

    /// <inheritdoc/>
    public bool Equals(PublicIdentity? other) => other is not null && _key.AsSpan().SequenceEqual(other._key);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PublicIdentity);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_key, 0);

    /// <inheritdoc/>
    public override string ToString() => Did;
}
