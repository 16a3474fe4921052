using System.Globalization;
using Xmbl.Cluster.Wasm;

namespace Xmbl.Cluster.Cli.Internal;

/// <summary>Converts between command-line text and wasm values for <c>xmbl run --invoke</c>.</summary>
internal static class InvokeValues
{
    /// <summary>Parses one argument for a parameter of the given type. Integers accept signed or unsigned
    /// decimal (so <c>4294967295</c> and <c>-1</c> are the same i32) and <c>0x</c> hex; floats accept
    /// decimal, <c>inf</c>, <c>-inf</c> and <c>nan</c>.</summary>
    public static bool TryParse(string text, WasmValueType type, out WasmValue value)
    {
        value = default;
        var s = text.Trim();
        switch (type)
        {
            case WasmValueType.I32:
                if (TryParseInteger(s, out var i64) && i64 >= int.MinValue && i64 <= uint.MaxValue)
                {
                    value = WasmValue.FromI32(unchecked((int)i64));
                    return true;
                }

                if (TryParseHex(s, out var hex32) && hex32 <= uint.MaxValue)
                {
                    value = WasmValue.FromI32(unchecked((int)hex32));
                    return true;
                }

                return false;
            case WasmValueType.I64:
                if (TryParseInteger(s, out var l))
                {
                    value = WasmValue.FromI64(l);
                    return true;
                }

                if (ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var ul) || TryParseHex(s, out ul))
                {
                    value = WasmValue.FromI64(unchecked((long)ul));
                    return true;
                }

                return false;
            case WasmValueType.F32:
                if (TryParseFloat(s, out var f))
                {
                    value = WasmValue.FromF32((float)f);
                    return true;
                }

                return false;
            case WasmValueType.F64:
                if (TryParseFloat(s, out var d))
                {
                    value = WasmValue.FromF64(d);
                    return true;
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>Formats a result the way it would be written in wasm text: integers signed, floats round-trippable.</summary>
    public static string Format(WasmValue value) => value.Type switch
    {
        WasmValueType.I32 => value.I32.ToString(CultureInfo.InvariantCulture),
        WasmValueType.I64 => value.I64.ToString(CultureInfo.InvariantCulture),
        WasmValueType.F32 => FormatFloat(value.F32),
        WasmValueType.F64 => FormatDouble(value.F64),
        WasmValueType.FuncRef or WasmValueType.ExternRef => value.Ref is null ? "null" : "<" + value.Type.ToString().ToLowerInvariant() + ">",
        _ => "<" + value.Type.ToString().ToLowerInvariant() + ">",
    };

    private static string FormatFloat(float f) => float.IsNaN(f) ? "nan" : float.IsPositiveInfinity(f) ? "inf"
        : float.IsNegativeInfinity(f) ? "-inf" : f.ToString("R", CultureInfo.InvariantCulture);

    private static string FormatDouble(double d) => double.IsNaN(d) ? "nan" : double.IsPositiveInfinity(d) ? "inf"
        : double.IsNegativeInfinity(d) ? "-inf" : d.ToString("R", CultureInfo.InvariantCulture);

    private static bool TryParseInteger(string s, out long value) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static bool TryParseHex(string s, out ulong value)
    {
        value = 0;
        return s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
            ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryParseFloat(string s, out double value)
    {
        switch (s.ToLowerInvariant())
        {
            case "inf" or "+inf" or "infinity":
                value = double.PositiveInfinity;
                return true;
            case "-inf" or "-infinity":
                value = double.NegativeInfinity;
                return true;
            case "nan":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}
