using System.Security.Cryptography;
using Xmbl.Cluster.P2P.Yamux;

namespace Xmbl.Cluster.P2P.Protocols;

/// <summary><c>/ipfs/ping/1.0.0</c>: the dialer sends 32 random bytes, the listener echoes them, as often as the dialer likes.</summary>
public static class PingProtocol
{
    /// <summary>The protocol id.</summary>
    public const string ProtocolId = "/ipfs/ping/1.0.0";

    /// <summary>Bytes per ping.</summary>
    public const int PayloadLength = 32;

    /// <summary>Longest wait for the next ping on a stream before the listener gives up on it.</summary>
    public static readonly TimeSpan StreamIdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Sends one ping and returns the round-trip time.</summary>
    /// <exception cref="P2PProtocolException">The echo differs from what was sent.</exception>
    public static async Task<TimeSpan> PingAsync(P2PConnection connection, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(time);
        await using var stream = await connection.OpenStreamAsync(ProtocolId, cancellationToken);
        var sent = new byte[PayloadLength];
        var received = new byte[PayloadLength];
        RandomNumberGenerator.Fill(sent);
        var start = time.GetTimestamp();
        await stream.WriteAsync(sent, cancellationToken);
        await stream.ReadExactlyAsync(received, cancellationToken);
        var rtt = time.GetElapsedTime(start);
        return sent.AsSpan().SequenceEqual(received) ? rtt : throw new P2PProtocolException("ping: the echo differs from the bytes sent.");
    }

    /// <summary>Echoes each 32-byte ping as soon as it arrives, until the remote closes its side.</summary>
    public static async Task HandleAsync(YamuxStream stream, P2PConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[PayloadLength];
        while (true)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(StreamIdleTimeout);
            var read = await stream.ReadAtLeastAsync(buffer, PayloadLength, throwOnEndOfStream: false, idle.Token);
            if (read < PayloadLength)
            {
                await stream.CloseWriteAsync();
                return;
            }

            await stream.WriteAsync(buffer, cancellationToken);
        }
    }
}
