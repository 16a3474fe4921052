using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Xmbl.Cluster.P2P.Multistream;

namespace Xmbl.Cluster.P2P.Tests;

[Trait("Suite", "BVT")]
public class MultistreamSelectTests
{
    [Fact]
    public async Task Select_WhenFirstProtocolRefused_TriesTheNextAndAgrees()
    {
        var (dialer, listener) = Pair();
        var served = MultistreamSelect.HandleAsync(listener.Input, listener.Output, p => p == "/b/1.0.0", CancellationToken.None).AsTask();
        var chosen = await MultistreamSelect.SelectAsync(dialer.Input, dialer.Output, ["/a/1.0.0", "/b/1.0.0"], CancellationToken.None);
        Assert.Equal("/b/1.0.0", chosen);
        Assert.Equal("/b/1.0.0", await served);
    }

    [Fact]
    public async Task Select_WhenAllRefused_ReturnsNull()
    {
        var (dialer, listener) = Pair();
        _ = MultistreamSelect.HandleAsync(listener.Input, listener.Output, _ => false, CancellationToken.None).AsTask();
        Assert.Null(await MultistreamSelect.SelectAsync(dialer.Input, dialer.Output, ["/a/1.0.0"], CancellationToken.None));
    }

    [Fact]
    public async Task WriteMessage_IsLengthTextNewline()
    {
        var pipe = new Pipe();
        MultistreamSelect.WriteMessage(pipe.Writer, "na");
        await pipe.Writer.FlushAsync();
        var result = await pipe.Reader.ReadAsync();
        Assert.Equal(new byte[] { 0x03, 0x6E, 0x61, 0x0A }, result.Buffer.ToArray());
    }

    [Fact]
    public async Task Handle_HeaderAndProposalInOneWrite_AnswersBoth()
    {
        // js-libp2p's dialer sends both frames together; the listener must read them out of one buffer.
        var (dialer, listener) = Pair();
        MultistreamSelect.WriteMessage(dialer.Output, MultistreamSelect.Header);
        MultistreamSelect.WriteMessage(dialer.Output, "/x/1.0.0");
        dialer.Output.Write("after"u8);
        await dialer.Output.FlushAsync();
        Assert.Equal("/x/1.0.0", await MultistreamSelect.HandleAsync(listener.Input, listener.Output, _ => true, CancellationToken.None));
        // Protocol bytes that followed in the same read are left for the protocol.
        var rest = await listener.Input.ReadAsync();
        Assert.Equal("after", Encoding.ASCII.GetString(rest.Buffer.ToArray()));
    }

    [Theory]
    [InlineData("13 2F6D756C746973747265616D2F312E302E30 21")] // header without its newline
    [InlineData("FF 0F")]                                       // 1999 bytes, over the 1024 limit
    [InlineData("80 80 01")]                                    // a length prefix of 3 bytes
    [InlineData("00")]                                          // an empty message
    public async Task Handle_MalformedMessage_IsAProtocolError(string hex)
    {
        var (dialer, listener) = Pair();
        await dialer.Output.WriteAsync(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)));
        await Assert.ThrowsAsync<P2PProtocolException>(async () => await MultistreamSelect.HandleAsync(listener.Input, listener.Output, _ => true, CancellationToken.None));
    }

    [Fact]
    public async Task Handle_EndlessRefusedProposals_GivesUp()
    {
        var (dialer, listener) = Pair();
        MultistreamSelect.WriteMessage(dialer.Output, MultistreamSelect.Header);
        for (var i = 0; i <= MultistreamSelect.MaxProposals; i++)
        {
            MultistreamSelect.WriteMessage(dialer.Output, "/nope/" + i);
        }

        await dialer.Output.FlushAsync();
        var error = await Assert.ThrowsAsync<P2PProtocolException>(async () => await MultistreamSelect.HandleAsync(listener.Input, listener.Output, _ => false, CancellationToken.None));
        Assert.Contains("proposals refused", error.Message, StringComparison.Ordinal);
    }

    private static (IDuplexPipe Dialer, IDuplexPipe Listener) Pair()
    {
        var toListener = new Pipe();
        var toDialer = new Pipe();
        return (new Transport.DuplexPipe(toDialer.Reader, toListener.Writer), new Transport.DuplexPipe(toListener.Reader, toDialer.Writer));
    }
}
