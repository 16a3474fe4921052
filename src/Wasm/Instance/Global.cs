namespace Xmbl.Cluster.Wasm;

/// <summary>A global variable: a typed cell that may be shared between instances through imports and exports.</summary>
public sealed class Global
{
    // Read and written by generated code: numeric values as raw bits (floats bit-exact), references as objects.
    internal ulong Bits;
    internal object? Reference;

    /// <summary>Creates a global.</summary>
    /// <param name="type">The value type.</param>
    /// <param name="mutable">Whether wasm code (and <see cref="Value"/>'s setter) may change it.</param>
    /// <param name="initial">The initial value; must have type <paramref name="type"/>.</param>
    public Global(WasmValueType type, bool mutable, WasmValue initial)
    {
        if (type == WasmValueType.V128)
        {
            throw new ArgumentException("v128 globals are not supported.", nameof(type));
        }

        Type = type;
        Mutable = mutable;
        Store(initial);
    }

    /// <summary>The value type.</summary>
    public WasmValueType Type { get; }

    /// <summary>Whether the global is mutable.</summary>
    public bool Mutable { get; }

    /// <summary>The current value. Setting an immutable global throws <see cref="InvalidOperationException"/>.</summary>
    public WasmValue Value
    {
        get => Type.IsReference() ? WasmValue.FromRef(Type, Reference) : WasmValue.FromBits(Type, Bits);
        set
        {
            if (!Mutable)
            {
                throw new InvalidOperationException("The global is immutable.");
            }

            Store(value);
        }
    }

    internal void Store(WasmValue value)
    {
        if (value.Type != Type)
        {
            throw new ArgumentException($"Expected a {Type.ToWatName()} value, got {value.Type.ToWatName()}.", nameof(value));
        }

        Bits = value.Bits;
        Reference = value.Ref;
    }
}
