namespace Xmbl.Cluster.Wasm.Tests.Module;

[Trait("Suite", "BVT")]
public sealed class WasmBinaryReaderTests
{
    [Theory]
    [InlineData(new byte[] { 0x00 }, 0u)]
    [InlineData(new byte[] { 0x7F }, 127u)]
    [InlineData(new byte[] { 0x80, 0x01 }, 128u)]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x00 }, 0u)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, uint.MaxValue)]
    public void ReadVarU32_ValidEncoding_ReturnsValue(byte[] bytes, uint expected)
    {
        var reader = new WasmBinaryReader(bytes);
        Assert.Equal(expected, reader.ReadVarU32());
        Assert.True(reader.AtEnd);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, "integer representation too long")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F }, "integer too large")]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x10 }, "integer too large")]
    [InlineData(new byte[] { 0x80, 0x80 }, "unexpected end")]
    public void ReadVarU32_BadEncoding_IsMalformed(byte[] bytes, string message)
    {
        var e = Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(bytes).ReadVarU32());
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x7F }, -1)]
    [InlineData(new byte[] { 0x3F }, 63)]
    [InlineData(new byte[] { 0x40 }, -64)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07 }, int.MaxValue)]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x78 }, int.MinValue)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }, -1)]
    public void ReadVarI32_ValidEncoding_ReturnsValue(byte[] bytes, int expected)
    {
        var reader = new WasmBinaryReader(bytes);
        Assert.Equal(expected, reader.ReadVarI32());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x4F })]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x70 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void ReadVarI32_InconsistentSignBits_IsIntegerTooLarge(byte[] bytes)
    {
        var e = Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(bytes).ReadVarI32());
        Assert.Contains("integer too large", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadVarI64_ExtremesAndOverlong_AreDecodedOrRejected()
    {
        byte[] min = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F];
        Assert.Equal(long.MinValue, new WasmBinaryReader(min).ReadVarI64());
        byte[] max = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
        Assert.Equal(long.MaxValue, new WasmBinaryReader(max).ReadVarI64());
        byte[] tooLong = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        Assert.Contains("too long", Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(tooLong).ReadVarI64()).Message, StringComparison.Ordinal);
        byte[] badSign = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        Assert.Contains("too large", Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(badSign).ReadVarI64()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadVarU64_TenthByteOnlyMayHoldBitZero()
    {
        byte[] max = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        Assert.Equal(ulong.MaxValue, new WasmBinaryReader(max).ReadVarU64());
        byte[] tooLarge = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x03];
        Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(tooLarge).ReadVarU64());
    }

    [Fact]
    public void ReadVarS33_NegativeAndLargeValues_AreSignExtendedFromBit32()
    {
        Assert.Equal(-1L, new WasmBinaryReader([0x7F]).ReadVarS33());
        byte[] twoPow32Minus1 = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        Assert.Equal(uint.MaxValue, new WasmBinaryReader(twoPow32Minus1).ReadVarS33());
        byte[] minS33 = [0x80, 0x80, 0x80, 0x80, 0x70];
        Assert.Equal(-(1L << 32), new WasmBinaryReader(minS33).ReadVarS33());
    }

    [Fact]
    public void ReadName_InvalidUtf8_IsMalformed()
    {
        byte[] overlong = [0x02, 0xC0, 0x80];
        Assert.Contains("malformed UTF-8 encoding", Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(overlong).ReadName()).Message, StringComparison.Ordinal);
        byte[] surrogate = [0x03, 0xED, 0xA0, 0x80];
        Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(surrogate).ReadName());
        byte[] ok = [0x03, 0xE2, 0x82, 0xAC];
        Assert.Equal("\u20AC", new WasmBinaryReader(ok).ReadName());
    }

    [Fact]
    public void ReadName_LengthBeyondInput_IsMalformedWithoutAllocating()
    {
        byte[] huge = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x41];
        Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(huge).ReadName());
    }

    [Fact]
    public void ReadCount_CountBeyondRemainingBytes_IsMalformed()
    {
        byte[] bytes = [0x05, 0x01, 0x02];
        Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(bytes).ReadCount(1, 100, "thing"));
        byte[] overLimit = [0x0B, .. new byte[20]];
        Assert.Contains("exceeds the limit", Assert.Throws<WasmMalformedException>(() => new WasmBinaryReader(overLimit).ReadCount(1, 10, "thing")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadValueType_V128_IsUnsupportedSimd()
    {
        var e = Assert.Throws<WasmUnsupportedFeatureException>(() => new WasmBinaryReader([0x7B]).ReadValueType());
        Assert.Contains("SIMD is not supported", e.Message, StringComparison.Ordinal);
        Assert.Equal("simd", e.Feature);
    }
}
