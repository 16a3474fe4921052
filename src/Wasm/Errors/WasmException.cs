namespace Xmbl.Cluster.Wasm;

/// <summary>Base class of every error raised by the WebAssembly engine.</summary>
public class WasmException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WasmException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public WasmException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
