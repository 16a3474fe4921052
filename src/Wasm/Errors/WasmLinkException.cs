namespace Xmbl.Cluster.Wasm;

/// <summary>An import could not be resolved or has an incompatible type (spec: assert_unlinkable).</summary>
public sealed class WasmLinkException : WasmException
{
    /// <summary>Creates the exception.</summary>
    public WasmLinkException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">"unknown import" or "incompatible import type" plus details.</param>
    public WasmLinkException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmLinkException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
