namespace Xmbl.Cluster.Wasm;

/// <summary>
/// The call-depth limit is a budget of native stack, in units of <see cref="StoreLimits.StackUnitBytes"/>: each
/// function charges <see cref="FrameUnits"/> on entry, a deterministic upper bound of its JIT frame computed from the
/// IL the translator emitted (so the trap point and fuel are the same on every machine). A function whose frame fits
/// one unit charges in its own prologue, exactly like the old depth counter. A larger one is entered through a small
/// wrapper that charges before the big frame is allocated (the JIT zeroes a frame in the prologue, before any IL
/// runs) and also probes the real stack as a safety net.
/// </summary>
/// <remarks>
/// Invariant: whenever guest code is entered with budget <c>b</c>, at least <c>b * StackUnitBytes +
/// ThreadReserveBytes</c> bytes of the thread's stack are free. A guest thread starts with at most
/// <see cref="ThreadUnits"/>, which leaves <see cref="ThreadReserveBytes"/> of its stack for host frames, and every
/// frame that is not behind a wrapper is at most one unit.
/// </remarks>
internal static class StackBudget
{
    /// <summary>Bytes charged per slot (local, parameter, spilled operand): the x64/arm64 JITs use 4 or 8; 2x margin.</summary>
    public const int BytesPerSlot = 16;

    /// <summary>Fixed part of every frame: return address, saved registers, the translator's own locals.</summary>
    public const int FixedFrameBytes = 512;

    /// <summary>Units charged when host code calls back into guest code (its own frames are not otherwise charged).</summary>
    public const int HostReentryUnits = 2;

    /// <summary>The most units any code on one guest thread gets: <see cref="StoreLimits.MaxSupportedCallDepth"/>.</summary>
    public const int ThreadUnits = StoreLimits.MaxSupportedCallDepth;

    /// <summary>Stack left over for host frames when the whole thread budget is used.</summary>
    public const long ThreadReserveBytes = (long)GuestThread.StackSize - ((long)ThreadUnits * StoreLimits.StackUnitBytes);

    /// <summary>
    /// Frames estimated above this many bytes are never run: calling such a function traps at once. It is twice the
    /// largest frame of the validator's largest function (50,000 locals and 1,000 parameters), and it also bounds the
    /// JIT's work on pathological operand stacks (its spill temporaries grow with stack depth times branches).
    /// </summary>
    public const int MaxFrameBytes = 2 * 1024 * 1024;

    /// <summary>Margin the safety net demands below a large frame, beyond its estimate.</summary>
    public const int SafetyNetMarginBytes = 64 * 1024;

    /// <summary>A deterministic upper bound, in bytes, of the native frame of a translated function.</summary>
    /// <param name="parameters">Wasm parameters.</param>
    /// <param name="ilLocals">IL locals the translator declared (wasm locals and its temporaries).</param>
    /// <param name="spillSlots">Sum over emitted branches of the operand-stack depth there: the JIT spills the
    /// evaluation stack to fresh temporaries at every block boundary it crosses.</param>
    /// <param name="maxCallArguments">Most arguments of a call the function makes (outgoing argument area).</param>
    public static long FrameBytes(int parameters, int ilLocals, long spillSlots, int maxCallArguments) =>
        FixedFrameBytes + (BytesPerSlot * ((long)parameters + ilLocals + spillSlots + maxCallArguments));

    /// <summary>Units charged for a frame of <paramref name="frameBytes"/>; more than any budget when it is over
    /// <see cref="MaxFrameBytes"/>.</summary>
    public static int FrameUnits(long frameBytes) =>
        frameBytes > MaxFrameBytes ? ThreadUnits + 1 : (int)Math.Max(1, (frameBytes + StoreLimits.StackUnitBytes - 1) / StoreLimits.StackUnitBytes);
}
