using System.Globalization;

namespace Xmbl.Cluster.Wasm;

/// <summary>A typed WebAssembly value: a number (stored as exact bits) or a reference.</summary>
/// <remarks>Floats keep their exact bit pattern, so NaN payloads survive a round trip.</remarks>
public readonly struct WasmValue : IEquatable<WasmValue>
{
    private readonly ulong _bits;
    private readonly object? _ref;

    private WasmValue(WasmValueType type, ulong bits, object? reference)
    {
        Type = type;
        _bits = bits;
        _ref = reference;
    }

    /// <summary>The value's type.</summary>
    public WasmValueType Type { get; }

    /// <summary>The value as an i32 (the low 32 bits of the payload).</summary>
    public int I32 => (int)_bits;

    /// <summary>The value as an i64.</summary>
    public long I64 => (long)_bits;

    /// <summary>The value as an f32.</summary>
    public float F32 => BitConverter.UInt32BitsToSingle((uint)_bits);

    /// <summary>The value as an f64.</summary>
    public double F64 => BitConverter.UInt64BitsToDouble(_bits);

    /// <summary>The exact bit pattern of an f32 value.</summary>
    public uint F32Bits => (uint)_bits;

    /// <summary>The exact bit pattern of an f64 value.</summary>
    public ulong F64Bits => _bits;

    /// <summary>The raw 64-bit payload of a numeric value (zero-extended for 32-bit types).</summary>
    public ulong Bits => _bits;

    /// <summary>For funcref: a <see cref="Function"/> or null; for externref: any object or null.</summary>
    public object? Ref => _ref;

    /// <summary>Whether this is a null reference.</summary>
    public bool IsNullRef => Type.IsReference() && _ref is null;

    /// <summary>Creates an i32 value.</summary>
    /// <param name="value">The integer.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromI32(int value) => new(WasmValueType.I32, (uint)value, null);

    /// <summary>Creates an i64 value.</summary>
    /// <param name="value">The integer.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromI64(long value) => new(WasmValueType.I64, (ulong)value, null);

    /// <summary>Creates an f32 value.</summary>
    /// <param name="value">The float.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromF32(float value) => new(WasmValueType.F32, BitConverter.SingleToUInt32Bits(value), null);

    /// <summary>Creates an f64 value.</summary>
    /// <param name="value">The double.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromF64(double value) => new(WasmValueType.F64, BitConverter.DoubleToUInt64Bits(value), null);

    /// <summary>Creates an f32 value from an exact bit pattern.</summary>
    /// <param name="bits">The IEEE 754 binary32 bits.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromF32Bits(uint bits) => new(WasmValueType.F32, bits, null);

    /// <summary>Creates an f64 value from an exact bit pattern.</summary>
    /// <param name="bits">The IEEE 754 binary64 bits.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromF64Bits(ulong bits) => new(WasmValueType.F64, bits, null);

    /// <summary>Creates a null reference of the given reference type.</summary>
    /// <param name="refType">funcref or externref.</param>
    /// <returns>The null reference.</returns>
    public static WasmValue NullRef(WasmValueType refType)
    {
        if (!refType.IsReference())
        {
            throw new ArgumentException($"{refType} is not a reference type.", nameof(refType));
        }

        return new(refType, 0, null);
    }

    /// <summary>Creates a reference value.</summary>
    /// <param name="refType">funcref or externref.</param>
    /// <param name="reference">For funcref a <see cref="Function"/> or null; for externref any object or null.</param>
    /// <returns>The reference value.</returns>
    public static WasmValue FromRef(WasmValueType refType, object? reference)
    {
        if (!refType.IsReference())
        {
            throw new ArgumentException($"{refType} is not a reference type.", nameof(refType));
        }

        if (refType == WasmValueType.FuncRef && reference is not null and not Function)
        {
            throw new ArgumentException("A funcref must be a Function or null.", nameof(reference));
        }

        return new(refType, 0, reference);
    }

    /// <summary>Creates a numeric value of the given type from raw bits (the low 32 bits for 32-bit types).</summary>
    /// <param name="type">A numeric type.</param>
    /// <param name="bits">The payload.</param>
    /// <returns>The value.</returns>
    public static WasmValue FromBits(WasmValueType type, ulong bits) => type switch
    {
        WasmValueType.I32 or WasmValueType.F32 => new(type, (uint)bits, null),
        WasmValueType.I64 or WasmValueType.F64 => new(type, bits, null),
        _ => throw new ArgumentException($"{type} is not a numeric type.", nameof(type)),
    };

    /// <summary>The default (zero or null) value of a type.</summary>
    /// <param name="type">The type.</param>
    /// <returns>Zero for numbers, null for references.</returns>
    public static WasmValue Default(WasmValueType type) => new(type, 0, null);

    /// <inheritdoc/>
    public bool Equals(WasmValue other) =>
        Type == other.Type && _bits == other._bits && ReferenceEquals(_ref, other._ref);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WasmValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(Type, _bits, _ref is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_ref));

    /// <summary>Bitwise (and reference) equality.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    /// <returns>True when type, bits and reference are identical.</returns>
    public static bool operator ==(WasmValue left, WasmValue right) => left.Equals(right);

    /// <summary>Bitwise (and reference) inequality.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    /// <returns>True when the values differ.</returns>
    public static bool operator !=(WasmValue left, WasmValue right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => Type switch
    {
        WasmValueType.I32 => "i32:" + I32.ToString(CultureInfo.InvariantCulture),
        WasmValueType.I64 => "i64:" + I64.ToString(CultureInfo.InvariantCulture),
        WasmValueType.F32 => "f32:" + F32.ToString("R", CultureInfo.InvariantCulture) + " (0x" + F32Bits.ToString("X8", CultureInfo.InvariantCulture) + ")",
        WasmValueType.F64 => "f64:" + F64.ToString("R", CultureInfo.InvariantCulture) + " (0x" + F64Bits.ToString("X16", CultureInfo.InvariantCulture) + ")",
        WasmValueType.FuncRef or WasmValueType.ExternRef => Type.ToWatName() + ":" + (_ref?.ToString() ?? "null"),
        _ => Type.ToWatName(),
    };
}
