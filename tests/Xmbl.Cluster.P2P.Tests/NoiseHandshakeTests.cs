using System.Buffers;
using System.IO.Pipelines;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Noise;
using Xmbl.Cluster.P2P.Transport;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class NoiseHandshakeTests
{
    [Fact]
    public async Task Handshake_BothSides_AuthenticateEachOtherAndShareTransportKeys()
    {
        using var a = Ed25519KeyPair.Generate();
        using var b = Ed25519KeyPair.Generate();
        var (ia, ib) = Pair();
        using var initiator = new NoiseHandshake(a, initiator: true, PeerId.FromPublicKey(b.PublicKey));
        using var responder = new NoiseHandshake(b, initiator: false, expectedRemote: null);
        var results = await Task.WhenAll(initiator.RunAsync(ia.Input, ia.Output, CancellationToken.None), responder.RunAsync(ib.Input, ib.Output, CancellationToken.None));
        Assert.Equal(PeerId.FromPublicKey(b.PublicKey), results[0].RemotePeer);
        Assert.Equal(PeerId.FromPublicKey(a.PublicKey), results[1].RemotePeer);
        Assert.True(results[0].RemoteSupportsYamux && results[1].RemoteSupportsYamux);

        var message = "hello over noise"u8.ToArray();
        var sealedBytes = new byte[message.Length + NoiseCipher.TagLength];
        results[0].Sender.Encrypt([], message, sealedBytes);
        var opened = new byte[message.Length];
        Assert.True(results[1].Receiver.TryDecrypt([], sealedBytes, opened));
        Assert.Equal(message, opened);
        // The next message (nonce 1), with one bit flipped, is refused.
        results[0].Sender.Encrypt([], message, sealedBytes);
        sealedBytes[3] ^= 1;
        Assert.False(results[1].Receiver.TryDecrypt([], sealedBytes, opened));
    }

    [Fact]
    public async Task Handshake_TamperedSecondMessage_FailsAuthentication()
    {
        using var a = Ed25519KeyPair.Generate();
        using var b = Ed25519KeyPair.Generate();
        var toResponder = new Pipe();
        var toInitiator = new Pipe();
        var tamper = new Pipe();
        using var initiator = new NoiseHandshake(a, initiator: true, expectedRemote: null);
        using var responder = new NoiseHandshake(b, initiator: false, expectedRemote: null);
        var running = initiator.RunAsync(tamper.Reader, toResponder.Writer, CancellationToken.None);
        _ = responder.RunAsync(toResponder.Reader, toInitiator.Writer, CancellationToken.None);

        // Flip one bit of the responder's encrypted static key on its way to the initiator.
        var read = await toInitiator.Reader.ReadAsync();
        var bytes = read.Buffer.ToArray();
        toInitiator.Reader.AdvanceTo(read.Buffer.End);
        bytes[2 + 32 + 5] ^= 0x01;
        await tamper.Writer.WriteAsync(bytes);

        var error = await Assert.ThrowsAsync<P2PProtocolException>(() => running);
        Assert.Contains("failed authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handshake_ShortFirstMessage_IsRefused()
    {
        using var b = Ed25519KeyPair.Generate();
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { 0, 5, 1, 2, 3, 4, 5 });
        using var responder = new NoiseHandshake(b, initiator: false, expectedRemote: null);
        await Assert.ThrowsAsync<P2PProtocolException>(() => responder.RunAsync(pipe.Reader, new Pipe().Writer, CancellationToken.None));
    }

    private static (IDuplexPipe A, IDuplexPipe B) Pair()
    {
        var ab = new Pipe();
        var ba = new Pipe();
        return (new DuplexPipe(ba.Reader, ab.Writer), new DuplexPipe(ab.Reader, ba.Writer));
    }
}
