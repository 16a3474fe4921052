namespace Xmbl.Cluster.Gateway.P2P;

/// <summary>A peer broke the rules of an <c>/xmbl/…</c> protocol: its connection is closed with this reason.</summary>
public sealed class BridgeProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BridgeProtocolException()
    {
    }

    /// <summary>Creates the exception with the rule broken.</summary>
    public BridgeProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the rule broken and the cause.</summary>
    public BridgeProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
