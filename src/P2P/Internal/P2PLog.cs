using Microsoft.Extensions.Logging;

namespace Xmbl.Cluster.P2P.Internal;

/// <summary>Event ids of the p2p subsystem (the 4000 range).</summary>
internal static class P2PEventId
{
    public const int Listening = 4001;
    public const int ConnectionOpened = 4002;
    public const int ConnectionClosed = 4003;
    public const int ConnectionRefused = 4004;
    public const int HandshakeFailed = 4010;
    public const int ProtocolViolation = 4011;
    public const int StreamRefused = 4020;
    public const int StreamNegotiationFailed = 4021;
    public const int HandlerFailed = 4022;
}

/// <summary>Source-generated log messages of the p2p subsystem.</summary>
internal static partial class P2PLog
{
    [LoggerMessage(EventId = P2PEventId.Listening, Level = LogLevel.Information, Message = "libp2p listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(EventId = P2PEventId.ConnectionOpened, Level = LogLevel.Debug, Message = "Connection {Direction} {Remote} ({Peer}) ready")]
    public static partial void ConnectionOpened(ILogger logger, string direction, string remote, string peer);

    [LoggerMessage(EventId = P2PEventId.ConnectionClosed, Level = LogLevel.Debug, Message = "Connection to {Remote} ({Peer}) closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string remote, string peer, string reason);

    [LoggerMessage(EventId = P2PEventId.ConnectionRefused, Level = LogLevel.Warning, Message = "Refused connection from {Remote}: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = P2PEventId.HandshakeFailed, Level = LogLevel.Warning, Message = "Handshake with {Remote} failed, connection closed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = P2PEventId.ProtocolViolation, Level = LogLevel.Warning, Message = "Closed connection to {Remote} ({Peer}): {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string remote, string peer, string reason);

    [LoggerMessage(EventId = P2PEventId.StreamRefused, Level = LogLevel.Debug, Message = "Reset inbound stream {StreamId} from {Peer}: {Reason}")]
    public static partial void StreamRefused(ILogger logger, uint streamId, string peer, string reason);

    [LoggerMessage(EventId = P2PEventId.StreamNegotiationFailed, Level = LogLevel.Debug, Message = "Inbound stream from {Peer} named no protocol we serve: {Reason}")]
    public static partial void StreamNegotiationFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = P2PEventId.HandlerFailed, Level = LogLevel.Warning, Message = "Handler of {Protocol} failed for {Peer}")]
    public static partial void HandlerFailed(ILogger logger, string protocol, string peer, Exception exception);
}
