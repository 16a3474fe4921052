namespace Xmbl.Cluster.Wasm;

/// <summary>The module is well-formed but fails validation (spec: assert_invalid).</summary>
public sealed class WasmInvalidException : WasmCompileException
{
    /// <summary>Creates the exception.</summary>
    public WasmInvalidException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong; contains the spec's wording where one exists.</param>
    public WasmInvalidException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmInvalidException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
