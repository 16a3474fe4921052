namespace Xmbl.Cluster.Wasm.Engines;

/// <summary>A host function a run defines for the guest to import (for jobs: <c>xmbl.run_module</c>).</summary>
/// <param name="Module">The import module name.</param>
/// <param name="Name">The import name.</param>
/// <param name="Type">The signature.</param>
/// <param name="Callback">The body. Throw <see cref="WasmTrapException"/> to trap the guest with that kind; any other
/// exception traps it too and comes back in <see cref="WasmRunResult.HostException"/>.</param>
public sealed record WasmHostFunction(string Module, string Name, FuncType Type, WasmHostCallback Callback);

/// <summary>The body of a <see cref="WasmHostFunction"/>.</summary>
/// <param name="call">The calling guest: its memory and fuel.</param>
/// <param name="args">The arguments, typed as the function's signature says.</param>
/// <param name="results">Receives the results.</param>
public delegate void WasmHostCallback(IWasmHostCall call, ReadOnlySpan<WasmValue> args, Span<WasmValue> results);

/// <summary>The guest calling a host function, as any engine presents it.</summary>
public interface IWasmHostCall
{
    /// <summary>The size of the guest's exported <c>memory</c> in 64 KiB pages, or null when it exports none.</summary>
    int? MemoryPages { get; }

    /// <summary>Fuel left, or null when the run has no fuel limit.</summary>
    long? FuelRemaining { get; }

    /// <summary>A window of the guest's exported <c>memory</c>; valid until the guest runs again.</summary>
    /// <param name="pointer">The guest address.</param>
    /// <param name="length">The number of bytes.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="WasmTrapException">No memory, or the range is out of bounds (<see cref="TrapKind.MemoryOutOfBounds"/>).</exception>
    Span<byte> Memory(uint pointer, int length);

    /// <summary>Charges fuel for work done on the guest's behalf.</summary>
    /// <param name="units">Units, at least zero.</param>
    /// <exception cref="WasmTrapException">Not enough fuel is left (<see cref="TrapKind.OutOfFuel"/>).</exception>
    void ConsumeFuel(long units);
}
