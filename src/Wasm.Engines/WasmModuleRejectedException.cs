namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>The bytes are not a module the engine accepts (malformed, invalid, or using an unsupported feature).</summary>
public sealed class WasmModuleRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WasmModuleRejectedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the module was rejected, in the engine's words.</param>
    public WasmModuleRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the module was rejected.</param>
    /// <param name="innerException">The engine's error.</param>
    public WasmModuleRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
