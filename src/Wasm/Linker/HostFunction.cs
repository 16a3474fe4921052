namespace Xmbl.Cluster.Wasm;

/// <summary>A function implemented by the host and imported by wasm code.</summary>
/// <param name="caller">The calling store and instance.</param>
/// <param name="args">Arguments, typed per the function's <see cref="FuncType"/>.</param>
/// <param name="results">Must be filled with values of the declared result types.</param>
/// <remarks>
/// Throw <see cref="WasmTrapException"/> to trap or <see cref="WasmExitException"/> to end the guest; any other
/// exception becomes a <see cref="TrapKind.HostError"/> trap with the exception as its inner exception.
/// </remarks>
public delegate void HostFunction(Caller caller, ReadOnlySpan<WasmValue> args, Span<WasmValue> results);
