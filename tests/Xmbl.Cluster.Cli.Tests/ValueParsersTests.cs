using Xmbl.Cluster.Cli.Internal;
using Xmbl.Cluster.Wasm;

namespace Xmbl.Cluster.Cli.Tests;

[Trait("Suite", "BVT")]
public sealed class ValueParsersTests
{
    [Theory]
    [InlineData("256MiB", 4096)]
    [InlineData("1GiB", 16384)]
    [InlineData("4GiB", 65536)]
    [InlineData("65536", 1)]
    [InlineData("100000", 1)]
    [InlineData("64K", 1)]
    [InlineData("65535", 0)]
    [InlineData("128KiB", 2)]
    [InlineData("10MB", 152)]
    [InlineData("100pages", 100)]
    [InlineData("7p", 7)]
    public void TryParseMemoryPages_ValidSizes_ConvertToWholePages(string text, int pages)
    {
        Assert.True(ValueParsers.TryParseMemoryPages(text, out var parsed, out var error), error);
        Assert.Equal(pages, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1MiB")]
    [InlineData("5GiB")]
    [InlineData("70000pages")]
    public void TryParseMemoryPages_Invalid_ExplainsWhy(string text)
    {
        Assert.False(ValueParsers.TryParseMemoryPages(text, out _, out var error));
        Assert.Contains(text, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2000)]
    [InlineData("1.5", 1500)]
    [InlineData("2m", 120_000)]
    public void TryParseDuration_Valid_Parses(string text, double milliseconds)
    {
        Assert.True(ValueParsers.TryParseDuration(text, out var duration));
        Assert.Equal(milliseconds, duration.TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("soon")]
    [InlineData("-1s")]
    public void TryParseDuration_Invalid_Fails(string text)
    {
        Assert.False(ValueParsers.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("-1", WasmValueType.I32, "-1")]
    [InlineData("4294967295", WasmValueType.I32, "-1")]
    [InlineData("0x7fffffff", WasmValueType.I32, "2147483647")]
    [InlineData("18446744073709551615", WasmValueType.I64, "-1")]
    [InlineData("-9223372036854775808", WasmValueType.I64, "-9223372036854775808")]
    [InlineData("0.1", WasmValueType.F64, "0.1")]
    [InlineData("-inf", WasmValueType.F32, "-inf")]
    [InlineData("nan", WasmValueType.F64, "nan")]
    public void InvokeValues_ParseThenFormat_RoundTrips(string text, WasmValueType type, string formatted)
    {
        Assert.True(InvokeValues.TryParse(text, type, out var value));
        Assert.Equal(type, value.Type);
        Assert.Equal(formatted, InvokeValues.Format(value));
    }

    [Theory]
    [InlineData("4294967296", WasmValueType.I32)]
    [InlineData("1.5", WasmValueType.I32)]
    [InlineData("abc", WasmValueType.F64)]
    [InlineData("1", WasmValueType.V128)]
    public void InvokeValues_Invalid_Fails(string text, WasmValueType type)
    {
        Assert.False(InvokeValues.TryParse(text, type, out _));
    }
}
