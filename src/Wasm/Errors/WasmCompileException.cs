namespace Xmbl.Cluster.Wasm;

/// <summary>A module could not be compiled: it is malformed, invalid, or uses an unsupported feature.</summary>
public class WasmCompileException : WasmException
{
    /// <summary>Creates the exception.</summary>
    public WasmCompileException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public WasmCompileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmCompileException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
