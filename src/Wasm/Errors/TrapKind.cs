namespace Xmbl.Cluster.Wasm;

/// <summary>Why guest execution stopped abnormally.</summary>
public enum TrapKind
{
    /// <summary>The <c>unreachable</c> instruction ran.</summary>
    Unreachable,

    /// <summary>A load, store or bulk memory operation went outside linear memory.</summary>
    MemoryOutOfBounds,

    /// <summary>A table access or bulk table operation went outside the table.</summary>
    TableOutOfBounds,

    /// <summary><c>call_indirect</c> found a null entry (or an index outside the table: "undefined element").</summary>
    IndirectCallToNull,

    /// <summary><c>call_indirect</c> found a function of a different type.</summary>
    IndirectCallTypeMismatch,

    /// <summary>Integer division or remainder by zero.</summary>
    IntegerDivideByZero,

    /// <summary>Signed division overflow (<c>INT_MIN / -1</c>) or an out-of-range float-to-int truncation.</summary>
    IntegerOverflow,

    /// <summary>Float-to-int truncation of NaN.</summary>
    InvalidConversionToInteger,

    /// <summary>A table entry that was never initialized was used.</summary>
    UninitializedElement,

    /// <summary>The call depth limit was reached.</summary>
    CallStackExhausted,

    /// <summary>The store ran out of fuel.</summary>
    OutOfFuel,

    /// <summary>A module's initial memory exceeds the store's memory limit.</summary>
    MemoryLimitExceeded,

    /// <summary>A module's initial table exceeds the store's table limit.</summary>
    TableLimitExceeded,

    /// <summary>The wall-clock limit elapsed or execution was cancelled.</summary>
    Timeout,

    /// <summary>A host function failed with an exception that was not a trap.</summary>
    HostError,
}
