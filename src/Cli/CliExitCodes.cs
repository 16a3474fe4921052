namespace Xmbl.Cluster.Cli;

/// <summary>Exit codes of <c>xmbl</c> itself. A WASI program run by <c>xmbl run</c> exits with its own code.</summary>
public static class CliExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>The command failed: missing file, malformed or invalid module, link error, unreachable gateway...</summary>
    public const int Failure = 1;

    /// <summary>The command line could not be parsed (unknown option, bad value).</summary>
    public const int Usage = 2;

    /// <summary>The WebAssembly program trapped (including running out of fuel, memory or time): 128 + SIGABRT,
    /// the code wasmtime uses on Unix.</summary>
    public const int Trap = 134;
}
