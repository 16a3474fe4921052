using System.Runtime.InteropServices;
using NSec.Cryptography;

namespace Xmbl.Cluster.Identity;

/// <summary>An Ed25519 public key, written as a <c>did:key</c> identifier (<c>did:key:z6Mk…</c>).</summary>
/// <remarks>
/// Only canonical keys of the prime-order subgroup are accepted: a key of small order verifies signatures that no
/// private key made, and a non-canonical encoding would give one key two identities.
/// </remarks>
public sealed partial class PublicIdentity : IEquatable<PublicIdentity>
{
    private const string DidKeyPrefix = "did:key:z";

    // Multicodec "ed25519-pub" (0xed) as an unsigned varint: 0xed 0x01.
    private static readonly byte[] Ed25519Multicodec = [0xED, 0x01];

    private readonly PublicKey _key;
    private readonly byte[] _bytes;

    /// <summary>Wraps a 32-byte Ed25519 public key.</summary>
    /// <exception cref="ArgumentException">Not 32 bytes, not a canonical point, or a point of small order.</exception>
    public PublicIdentity(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Ed25519KeyPair.KeyLength)
        {
            throw new ArgumentException($"An Ed25519 public key is {Ed25519KeyPair.KeyLength} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        if (!IsValidPoint(publicKey))
        {
            throw new ArgumentException("Not a valid Ed25519 public key: the point is non-canonical, not on the curve, or of small order.", nameof(publicKey));
        }

        _key = PublicKey.Import(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey);
        _bytes = publicKey.ToArray();
        Did = DidKeyPrefix + Base58.Encode([.. Ed25519Multicodec, .. _bytes]);
    }

    internal PublicIdentity(PublicKey key)
    {
        _key = key;
        _bytes = key.Export(KeyBlobFormat.RawPublicKey);
        Did = DidKeyPrefix + Base58.Encode([.. Ed25519Multicodec, .. _bytes]);
    }

    /// <summary>The <c>did:key</c> form of the key.</summary>
    public string Did { get; }

    /// <summary>The raw 32 key bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Parses a <c>did:key</c> identifier of an Ed25519 key.</summary>
    /// <exception cref="FormatException">Not a did:key, not an Ed25519 key, or not a valid one.</exception>
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

        var key = decoded.AsSpan(Ed25519Multicodec.Length);
        if (!IsValidPoint(key))
        {
            throw new FormatException("The did:key identifier holds an invalid Ed25519 key (non-canonical, off the curve or of small order).");
        }

        return new PublicIdentity(key);
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

    /// <summary>
    /// Checks a signature over a message; false for any bad signature, never throws for bad input. libsodium refuses
    /// non-canonical signatures (S at or above the group order) and small-order R.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        signature.Length == Ed25519KeyPair.SignatureLength && SignatureAlgorithm.Ed25519.Verify(_key, message, signature);

    /// <inheritdoc/>
    public bool Equals(PublicIdentity? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PublicIdentity);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <inheritdoc/>
    public override string ToString() => Did;

    /// <summary>Canonical, on the curve, in the prime-order subgroup, not of small order (libsodium's own check).</summary>
    private static bool IsValidPoint(ReadOnlySpan<byte> key)
    {
        // NSec loads libsodium before this runs (the algorithm's static constructor initializes it).
        _ = SignatureAlgorithm.Ed25519;
        return Sodium.crypto_core_ed25519_is_valid_point(ref MemoryMarshal.GetReference(key)) == 1;
    }

    private static partial class Sodium
    {
        // The libsodium that ships inside the NSec.Cryptography package; NSec exposes no point validation.
        [LibraryImport("libsodium")]
        internal static partial int crypto_core_ed25519_is_valid_point(ref byte p);
    }
}
