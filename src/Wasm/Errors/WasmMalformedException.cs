namespace Xmbl.Cluster.Wasm;

/// <summary>The module binary is not well-formed (spec: assert_malformed).</summary>
public sealed class WasmMalformedException : WasmCompileException
{
    /// <summary>Creates the exception.</summary>
    public WasmMalformedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong; contains the spec's wording where one exists.</param>
    public WasmMalformedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmMalformedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
