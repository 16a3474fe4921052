using System.Net.Sockets;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;
using Xmbl.Cluster.P2P.Multistream;
using Xmbl.Cluster.P2P.Noise;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P;

/// <summary>An authenticated, multiplexed connection to a peer (TCP, Noise, Yamux).</summary>
public sealed class P2PConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NoiseChannel _channel;
    private readonly CancellationTokenSource _closing = new();

    internal P2PConnection(Socket socket, NoiseChannel channel, YamuxSession session, PeerId remotePeer, PublicIdentity remoteKey, bool isInitiator, Multiaddr localAddress, Multiaddr remoteAddress)
    {
        _socket = socket;
        _channel = channel;
        Session = session;
        RemotePeer = remotePeer;
        RemoteKey = remoteKey;
        IsInitiator = isInitiator;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        Closed = CloseAfterSessionAsync();
    }

    /// <summary>The remote's peer id, proven by the Noise handshake.</summary>
    public PeerId RemotePeer { get; }

    /// <summary>The remote's Ed25519 identity key (its did:key).</summary>
    public PublicIdentity RemoteKey { get; }

    /// <summary>True when we dialed.</summary>
    public bool IsInitiator { get; }

    /// <summary>Our end of the TCP connection.</summary>
    public Multiaddr LocalAddress { get; }

    /// <summary>The remote end of the TCP connection.</summary>
    public Multiaddr RemoteAddress { get; }

    /// <summary>The yamux session.</summary>
    public YamuxSession Session { get; }

    /// <summary>Completes once the connection is closed and its socket released.</summary>
    public Task Closed { get; }

    /// <summary>Why the connection closed, once it has.</summary>
    public string? CloseReason => Session.CloseReason;

    /// <summary>Cancelled when the connection closes; handlers pass it on.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Opens a stream and agrees on <paramref name="protocol"/> with multistream-select.</summary>
    /// <exception cref="NotSupportedException">The peer does not serve the protocol.</exception>
    public async Task<YamuxStream> OpenStreamAsync(string protocol, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        var stream = Session.OpenStream();
        try
        {
            var selected = await MultistreamSelect.SelectAsync(stream.Input, stream.Output, [protocol], cancellationToken);
            if (selected is null)
            {
                throw new NotSupportedException($"{RemotePeer} does not serve {protocol}.");
            }

            stream.Protocol = selected;
            return stream;
        }
        catch
        {
            stream.Reset();
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the connection (GoAway, then the socket).</summary>
    public async ValueTask CloseAsync(string reason = "closed locally")
    {
        await Session.CloseAsync(reason);
        await Closed;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => CloseAsync();

    /// <inheritdoc/>
    public override string ToString() => $"{RemotePeer} at {RemoteAddress}";

    private async Task CloseAfterSessionAsync()
    {
        await Session.Completion;
        await _closing.CancelAsync();
        try
        {
            // The session completed its writer after the GoAway: give its last frames a moment to reach the wire.
            await _channel.WriteCompletion.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is TimeoutException or IOException or P2PProtocolException or OperationCanceledException or ObjectDisposedException)
        {
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
        await _channel.DisposeAsync();
    }
}
