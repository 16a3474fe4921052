namespace Xmbl.Cluster.Wasm;

/// <summary>A host function ended the guest cleanly (WASI <c>proc_exit</c>); propagates out of calls unwrapped.</summary>
public sealed class WasmExitException : WasmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="exitCode">The process exit code.</param>
    public WasmExitException(int exitCode)
        : base("guest exited with code " + exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code passed by the guest.</summary>
    public int ExitCode { get; }
}
