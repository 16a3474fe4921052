using System.Buffers.Binary;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>A Noise CipherState: ChaCha20-Poly1305 under one key with a 64-bit counter nonce.</summary>
/// <remarks>
/// The BCL's ChaCha20-Poly1305 (OpenSSL, with its AVX2/AVX-512 code) runs about twice as fast as libsodium's on
/// 64 KiB frames, and the cipher is most of the CPU a transfer costs; NSec (libsodium) is the fallback where the
/// platform has none. Both are the same AEAD (RFC 8439), so the bytes on the wire do not depend on the choice.
/// </remarks>
internal sealed class NoiseCipher : IDisposable
{
    public const int TagLength = 16;

    // js-noise refuses nonces past 2^32 - 1; rekeying is not in libp2p's Noise, so a session ends there.
    private const ulong MaxNonce = uint.MaxValue;

    private readonly System.Security.Cryptography.ChaCha20Poly1305? _openSsl;
    private readonly Key? _sodium;
    private ulong _nonce;

    public NoiseCipher(ReadOnlySpan<byte> key)
        : this(key, System.Security.Cryptography.ChaCha20Poly1305.IsSupported)
    {
    }

    /// <summary>Creates the cipher on the BCL's implementation or, with <paramref name="useBcl"/> false, on libsodium's.</summary>
    internal NoiseCipher(ReadOnlySpan<byte> key, bool useBcl)
    {
        if (useBcl)
        {
            _openSsl = new System.Security.Cryptography.ChaCha20Poly1305(key);
        }
        else
        {
            _sodium = Key.Import(AeadAlgorithm.ChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);
        }
    }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16).</summary>
    public void Encrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        if (_openSsl is not null)
        {
            _openSsl.Encrypt(nonce, plaintext, ciphertext[..plaintext.Length], ciphertext.Slice(plaintext.Length, TagLength), ad);
        }
        else
        {
            AeadAlgorithm.ChaCha20Poly1305.Encrypt(_sodium!, nonce, ad, plaintext, ciphertext[..(plaintext.Length + TagLength)]);
        }
    }

    /// <summary>Decrypts and authenticates; false when the tag does not match.</summary>
    public bool TryDecrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (ciphertext.Length < TagLength)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        var length = ciphertext.Length - TagLength;
        if (_openSsl is null)
        {
            return AeadAlgorithm.ChaCha20Poly1305.Decrypt(_sodium!, nonce, ad, ciphertext, plaintext[..length]);
        }

        try
        {
            _openSsl.Decrypt(nonce, ciphertext[..length], ciphertext[length..], plaintext[..length], ad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _openSsl?.Dispose();
        _sodium?.Dispose();
    }

    private void NextNonce(Span<byte> nonce)
    {
        if (_nonce > MaxNonce)
        {
            throw new P2PProtocolException("Noise: the nonce space of this session is used up.");
        }

        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _nonce++);
    }
}
