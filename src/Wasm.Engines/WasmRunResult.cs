namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>How a run ended.</summary>
public enum WasmRunEnd
{
    /// <summary>The command exited: <c>_start</c> returned (code 0) or the guest called <c>proc_exit</c>.</summary>
    Exited,

    /// <summary>The export returned; its values are in <see cref="WasmRunResult.Results"/>.</summary>
    Returned,

    /// <summary>The guest trapped (including fuel, memory, table and time limits); see <see cref="WasmRunResult.Trap"/>.</summary>
    Trapped,

    /// <summary>The module's imports cannot be satisfied.</summary>
    LinkFailed,

    /// <summary>No <c>_start</c> (or of the wrong type) for a command, or no such export, or arguments of the wrong types.</summary>
    NoEntry,
}

/// <summary>What a run produced.</summary>
/// <param name="End">How it ended.</param>
/// <param name="ExitCode">The command's exit code (0 when <c>_start</c> returned); 0 otherwise.</param>
/// <param name="Results">The export's results, for <see cref="WasmRunEnd.Returned"/>.</param>
/// <param name="FuelConsumed">Fuel used by the guest and charged by host functions (nested runs charge theirs).</param>
/// <param name="Trap">The trap kind, for <see cref="WasmRunEnd.Trapped"/>.</param>
/// <param name="Message">The trap, link or entry-point message.</param>
/// <param name="HostException">An exception a host function or a WASI stream threw (e.g. an output cap), which
/// trapped the guest; null otherwise.</param>
/// <param name="MemoryPages">The exported memory's final size in pages, when there is one.</param>
/// <param name="InstantiateTime">Time spent instantiating.</param>
/// <param name="RunTime">Time spent running the entry point.</param>
public sealed record WasmRunResult(
    WasmRunEnd End,
    int ExitCode,
    IReadOnlyList<WasmValue> Results,
    long FuelConsumed,
    TrapKind? Trap,
    string? Message,
    Exception? HostException,
    int? MemoryPages,
    TimeSpan InstantiateTime,
    TimeSpan RunTime);
