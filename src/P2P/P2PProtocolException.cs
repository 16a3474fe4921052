namespace Xmbl.Cluster.P2P;

/// <summary>The remote peer broke a protocol rule (a malformed or oversized message, a window overrun, a bad signature).</summary>
public sealed class P2PProtocolException : Exception
{
    /// <summary>Creates the exception with a message naming the rule that was broken.</summary>
    public P2PProtocolException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public P2PProtocolException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public P2PProtocolException()
    {
    }
}
