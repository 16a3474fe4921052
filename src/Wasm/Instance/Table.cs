namespace Xmbl.Cluster.Wasm;

/// <summary>A table of references: <see cref="Function"/>s (funcref) or host objects (externref).</summary>
public sealed class Table
{
    /// <summary>The most elements a table can ever have.</summary>
    public const int MaxElements = 10_000_000;

    // Read by generated code. The array length is the table size.
    internal object?[] Elements;
    internal int GrowLimit = MaxElements;

    /// <summary>Creates a table filled with null.</summary>
    /// <param name="elementType">funcref or externref.</param>
    /// <param name="min">Initial size.</param>
    /// <param name="max">Declared maximum size, if any.</param>
    public Table(WasmValueType elementType, int min, int? max)
    {
        if (!elementType.IsReference())
        {
            throw new ArgumentException("A table holds funcref or externref.", nameof(elementType));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(min);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(min, MaxElements);
        if (max is { } m)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(m, min, nameof(max));
        }

        ElementType = elementType;
        Maximum = max;
        Elements = min == 0 ? [] : new object?[min];
    }

    /// <summary>funcref or externref.</summary>
    public WasmValueType ElementType { get; }

    /// <summary>Declared maximum, if any.</summary>
    public int? Maximum { get; }

    /// <summary>Current number of elements.</summary>
    public int Size => Elements.Length;

    /// <summary>Reads an element.</summary>
    /// <param name="index">Element index.</param>
    /// <returns>A <see cref="Function"/>, a host object, or null.</returns>
    /// <exception cref="WasmTrapException">The index is out of bounds.</exception>
    public object? Get(int index)
    {
        var elements = Elements;
        if ((uint)index >= (uint)elements.Length)
        {
            throw new WasmTrapException(TrapKind.TableOutOfBounds);
        }

        return elements[index];
    }

    /// <summary>Writes an element.</summary>
    /// <param name="index">Element index.</param>
    /// <param name="value">For funcref tables a <see cref="Function"/> or null; for externref anything.</param>
    /// <exception cref="WasmTrapException">The index is out of bounds.</exception>
    public void Set(int index, object? value)
    {
        CheckElement(value);
        var elements = Elements;
        if ((uint)index >= (uint)elements.Length)
        {
            throw new WasmTrapException(TrapKind.TableOutOfBounds);
        }

        elements[index] = value;
    }

    /// <summary>Grows the table.</summary>
    /// <param name="delta">Elements to add.</param>
    /// <param name="init">Value of the new elements.</param>
    /// <returns>The previous size, or -1 when the maximum or the store's limit would be exceeded.</returns>
    public int Grow(int delta, object? init)
    {
        CheckElement(init);
        return delta < 0 ? -1 : GrowCore((uint)delta, init);
    }

    internal int GrowCore(uint delta, object? init)
    {
        var old = Elements.Length;
        var limit = Math.Min(Math.Min(Maximum ?? int.MaxValue, GrowLimit), MaxElements);
        if (delta > (uint)Math.Max(0, limit - old))
        {
            return -1;
        }

        if (delta == 0)
        {
            return old;
        }

        var grown = new object?[old + (int)delta];
        Array.Copy(Elements, grown, old);
        if (init is not null)
        {
            grown.AsSpan(old).Fill(init);
        }

        Elements = grown;
        return old;
    }

    private void CheckElement(object? value)
    {
        if (ElementType == WasmValueType.FuncRef && value is not null and not Function)
        {
            throw new ArgumentException("A funcref table holds Function values or null.", nameof(value));
        }
    }
}
