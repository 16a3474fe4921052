using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Xmbl.Cluster.Identity;

/// <summary>An Ed25519 (RFC 8032) signing key: the identity of an account or a node.</summary>
/// <remarks>The BCL has no Ed25519; Portable.BouncyCastle provides it.</remarks>
public sealed class Ed25519KeyPair
{
    /// <summary>Length of a private seed, a public key: 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>Length of a signature: 64 bytes.</summary>
    public const int SignatureLength = 64;

    private readonly Ed25519PrivateKeyParameters _privateKey;

    private Ed25519KeyPair(Ed25519PrivateKeyParameters privateKey)
    {
        _privateKey = privateKey;
        PublicKey = new PublicIdentity(privateKey.GeneratePublicKey().GetEncoded());
    }

    /// <summary>The public half.</summary>
    public PublicIdentity PublicKey { get; }

    /// <summary>Creates a new key from the OS random number generator.</summary>
    public static Ed25519KeyPair Generate()
    {
        Span<byte> seed = stackalloc byte[KeyLength];
        RandomNumberGenerator.Fill(seed);
        var pair = FromSeed(seed);
        CryptographicOperations.ZeroMemory(seed);
        return pair;
    }

    /// <summary>Restores a key from its 32-byte private seed.</summary>
    public static Ed25519KeyPair FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != KeyLength)
        {
            throw new ArgumentException($"An Ed25519 seed is {KeyLength} bytes, not {seed.Length}.", nameof(seed));
        }

        return new Ed25519KeyPair(new Ed25519PrivateKeyParameters(seed.ToArray(), 0));
    }

    /// <summary>The 32-byte private seed, for persisting the key.</summary>
    public byte[] ExportSeed() => _privateKey.GetEncoded();

    /// <summary>Signs a message.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signer = new Ed25519Signer();
        signer.Init(forSigning: true, _privateKey);
        var bytes = message.ToArray();
        signer.BlockUpdate(bytes, 0, bytes.Length);
        return signer.GenerateSignature();
    }
}
