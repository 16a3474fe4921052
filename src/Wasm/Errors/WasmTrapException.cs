namespace Xmbl.Cluster.Wasm;

/// <summary>Guest execution trapped; the store's state up to the trap is kept, the host keeps running.</summary>
public sealed class WasmTrapException : WasmException
{
    /// <summary>Creates a trap with the default message for its kind.</summary>
    /// <param name="kind">Why execution stopped.</param>
    public WasmTrapException(TrapKind kind)
        : base(DefaultMessage(kind))
    {
        Kind = kind;
    }

    /// <summary>Creates a trap with a message.</summary>
    /// <param name="kind">Why execution stopped.</param>
    /// <param name="message">Details; should contain the spec's wording.</param>
    public WasmTrapException(TrapKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    /// <summary>Creates a trap with a message and a cause (used for <see cref="TrapKind.HostError"/>).</summary>
    /// <param name="kind">Why execution stopped.</param>
    /// <param name="message">Details.</param>
    /// <param name="innerException">The underlying error.</param>
    public WasmTrapException(TrapKind kind, string message, Exception? innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Why execution stopped.</summary>
    public TrapKind Kind { get; }

    /// <summary>The spec's wording for each trap kind (what spec tests match against).</summary>
    /// <param name="kind">The trap kind.</param>
    /// <returns>The message.</returns>
    public static string DefaultMessage(TrapKind kind) => kind switch
    {
        TrapKind.Unreachable => "unreachable",
        TrapKind.MemoryOutOfBounds => "out of bounds memory access",
        TrapKind.TableOutOfBounds => "out of bounds table access",
        TrapKind.IndirectCallToNull => "uninitialized element",
        TrapKind.IndirectCallTypeMismatch => "indirect call type mismatch",
        TrapKind.IntegerDivideByZero => "integer divide by zero",
        TrapKind.IntegerOverflow => "integer overflow",
        TrapKind.InvalidConversionToInteger => "invalid conversion to integer",
        TrapKind.UninitializedElement => "uninitialized element",
        TrapKind.CallStackExhausted => "call stack exhausted",
        TrapKind.OutOfFuel => "all fuel consumed",
        TrapKind.MemoryLimitExceeded => "memory size exceeds the store's limit",
        TrapKind.TableLimitExceeded => "table size exceeds the store's limit",
        TrapKind.Timeout => "execution timed out or was cancelled",
        TrapKind.HostError => "host function failed",
        _ => kind.ToString(),
    };
}
