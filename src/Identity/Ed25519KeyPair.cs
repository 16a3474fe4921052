using NSec.Cryptography;

namespace Xmbl.Cluster.Identity;

/// <summary>An Ed25519 (RFC 8032) signing key: the identity of an account or a node.</summary>
/// <remarks>
/// The BCL has no Ed25519; NSec (libsodium inside) provides it. The private key lives in NSec's protected memory
/// and is wiped when the pair is disposed.
/// </remarks>
public sealed class Ed25519KeyPair : IDisposable
{
    /// <summary>Length of a private seed, a public key: 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>Length of a signature: 64 bytes.</summary>
    public const int SignatureLength = 64;

    private readonly Key _key;

    private Ed25519KeyPair(Key key)
    {
        _key = key;
        PublicKey = new PublicIdentity(key.PublicKey);
    }

    /// <summary>The public half.</summary>
    public PublicIdentity PublicKey { get; }

    /// <summary>Creates a new key from the OS random number generator.</summary>
    public static Ed25519KeyPair Generate() => new(Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>Restores a key from its 32-byte private seed.</summary>
    public static Ed25519KeyPair FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != KeyLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {KeyLength} bytes, not {seed.Length}.", nameof(seed));
        }

        return new Ed25519KeyPair(Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));
    }

    /// <summary>The 32-byte private seed, for persisting the key. Wipe it after use.</summary>
    public byte[] ExportSeed() => _key.Export(KeyBlobFormat.RawPrivateKey);

    /// <summary>Signs a message.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message) => SignatureAlgorithm.Ed25519.Sign(_key, message);

    /// <summary>Signs a message into <paramref name="signature"/> (<see cref="SignatureLength"/> bytes), allocating nothing.</summary>
    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        if (signature.Length != SignatureLength)
        {
            throw new ArgumentException($"An Ed25519 signature is {SignatureLength} bytes, not {signature.Length}.", nameof(signature));
        }

        SignatureAlgorithm.Ed25519.Sign(_key, message, signature);
    }

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();
}
