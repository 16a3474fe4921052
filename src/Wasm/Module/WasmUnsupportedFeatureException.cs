using System.Globalization;

namespace Xmbl.Cluster.Wasm;

/// <summary>The module uses a WebAssembly feature this engine does not implement (for now: fixed-width SIMD).</summary>
public sealed class WasmUnsupportedFeatureException : WasmCompileException
{
    /// <summary>Creates the exception.</summary>
    public WasmUnsupportedFeatureException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is unsupported.</param>
    public WasmUnsupportedFeatureException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is unsupported.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmUnsupportedFeatureException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The feature that is not supported (e.g. "simd").</summary>
    public string? Feature { get; init; }

    internal static WasmUnsupportedFeatureException Simd(int offset) =>
        new(string.Create(CultureInfo.InvariantCulture, $"SIMD is not supported (v128 type or 0xFD opcode at byte offset {offset})")) { Feature = "simd" };
}
