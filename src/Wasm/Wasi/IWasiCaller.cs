namespace Xmbl.Cluster.Wasm.Wasi;

/// <summary>What one WASI call needs from the engine running the guest: its linear memory and its fuel.</summary>
/// <remarks>Lets another engine (Wasmtime) run the same WASI host as ours, so a job's clocks, random bytes, output
/// and fuel charges for host calls are the same on both.</remarks>
public interface IWasiCaller
{
    /// <summary>The guest's memory exported as <c>memory</c>, as a native base address and a byte length.</summary>
    /// <param name="baseAddress">The address of byte 0; valid until the guest runs again.</param>
    /// <param name="length">The memory's size in bytes.</param>
    /// <returns>False when the guest exports no memory.</returns>
    bool TryGetMemory(out nint baseAddress, out ulong length);

    /// <summary>Charges fuel for work done on the guest's behalf.</summary>
    /// <param name="units">Units to charge, at least zero.</param>
    /// <exception cref="WasmTrapException">Not enough fuel is left (<see cref="TrapKind.OutOfFuel"/>).</exception>
    void ConsumeFuel(long units);
}
