using System.Security.Cryptography;
using Xmbl.Cluster.P2P.Noise;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class NoiseCipherTests
{
    [Fact]
    public void NoiseCipher_OpenSslAndLibsodium_SealFramesByteIdenticallyAndOpenEachOthers()
    {
        Assert.True(ChaCha20Poly1305.IsSupported, "The BCL's ChaCha20-Poly1305 is missing: the fast path is not exercised here.");
        var key = RandomNumberGenerator.GetBytes(32);
        using var openSsl = new NoiseCipher(key, useBcl: true);
        using var sodium = new NoiseCipher(key, useBcl: false);
        using var openSslReader = new NoiseCipher(key, useBcl: true);
        using var sodiumReader = new NoiseCipher(key, useBcl: false);
        var ad = RandomNumberGenerator.GetBytes(32);

        // Nonces advance per frame: several frames of every size class, including empty and the Noise maximum.
        foreach (var length in new[] { 0, 1, 17, 4096, NoiseChannel.MaxPlaintext })
        {
            var plain = RandomNumberGenerator.GetBytes(length);
            var a = new byte[length + NoiseCipher.TagLength];
            var b = new byte[length + NoiseCipher.TagLength];
            openSsl.Encrypt(ad, plain, a);
            sodium.Encrypt(ad, plain, b);
            Assert.Equal(a, b);

            var opened = new byte[length];
            Assert.True(sodiumReader.TryDecrypt(ad, a, opened));
            Assert.Equal(plain, opened);
            Assert.True(openSslReader.TryDecrypt(ad, b, opened));
            Assert.Equal(plain, opened);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NoiseCipher_FlippedBitOrWrongAd_FailsAuthentication(bool useBcl)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var sender = new NoiseCipher(key, useBcl);
        using var receiver = new NoiseCipher(key, useBcl);
        var plain = RandomNumberGenerator.GetBytes(1000);
        var frame = new byte[plain.Length + NoiseCipher.TagLength];
        var opened = new byte[plain.Length];

        sender.Encrypt([], plain, frame);
        frame[500] ^= 0x40;
        Assert.False(receiver.TryDecrypt([], frame, opened));

        // Each attempt uses up a nonce on both sides, as Noise does; the receiver is now at nonce 1.
        sender.Encrypt([1, 2, 3], plain, frame);
        Assert.False(receiver.TryDecrypt([1, 2, 4], frame, opened));
        Assert.False(receiver.TryDecrypt([], frame[..(NoiseCipher.TagLength - 1)], opened));
    }
}
