using System.Buffers.Binary;
using NSec.Cryptography;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>A Noise CipherState: ChaCha20-Poly1305 under one key with a 64-bit counter nonce.</summary>
internal sealed class NoiseCipher : IDisposable
{
    public const int TagLength = 16;

    // js-noise refuses nonces past 2^32 - 1; rekeying is not in libp2p's Noise, so a session ends there.
    private const ulong MaxNonce = uint.MaxValue;

    private readonly Key _key;
    private ulong _nonce;

    public NoiseCipher(ReadOnlySpan<byte> key) =>
        _key = Key.Import(AeadAlgorithm.ChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16).</summary>
    public void Encrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        AeadAlgorithm.ChaCha20Poly1305.Encrypt(_key, nonce, ad, plaintext, ciphertext[..(plaintext.Length + TagLength)]);
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
        return AeadAlgorithm.ChaCha20Poly1305.Decrypt(_key, nonce, ad, ciphertext, plaintext[..(ciphertext.Length - TagLength)]);
    }

    public void Dispose() => _key.Dispose();

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
