namespace Xmbl.Cluster.Wasm.Tests.Module;

[Trait("Suite", "BVT")]
public sealed class OperatorReaderTests
{
    private static Operator ReadOne(byte[] code)
    {
        var reader = new OperatorReader(code);
        reader.Read(out var op);
        Assert.True(reader.AtEnd, "immediates were not fully consumed");
        return op;
    }

    [Fact]
    public void Read_Constants_DecodeImmediates()
    {
        Assert.Equal(unchecked((ulong)-2L), ReadOne([0x41, 0x7E]).Immediate);
        Assert.Equal(0x80UL, ReadOne([0x42, 0x80, 0x01]).Immediate);
        Assert.Equal(0x7FA0_0000UL, ReadOne([0x43, 0x00, 0x00, 0xA0, 0x7F]).Immediate);
        Assert.Equal(0x7FF4_0000_0000_0000UL, ReadOne([0x44, 0, 0, 0, 0, 0, 0, 0xF4, 0x7F]).Immediate);
    }

    [Fact]
    public void Read_MemArg_HasAlignmentAndOffset()
    {
        var op = ReadOne([0x28, 0x02, 0x80, 0x80, 0x04]);
        Assert.Equal(Opcode.I32Load, op.Opcode);
        Assert.Equal(2u, op.Index);
        Assert.Equal(65_536UL, op.Immediate);
    }

    [Fact]
    public void Read_BlockTypes_AllThreeForms()
    {
        Assert.Equal(BlockTypeKind.Empty, ReadOne([0x02, 0x40]).Block.Kind);
        var value = ReadOne([0x03, 0x7E]).Block;
        Assert.Equal((BlockTypeKind.Value, WasmValueType.I64), (value.Kind, value.ValueType));
        var indexed = ReadOne([0x04, 0x81, 0x01]).Block;
        Assert.Equal((BlockTypeKind.TypeIndex, 129u), (indexed.Kind, indexed.TypeIndex));
        Assert.Throws<WasmMalformedException>(() => ReadOne([0x02, 0x7A]));
    }

    [Fact]
    public void Read_BrTable_TargetsAreReadLazily()
    {
        byte[] code = [0x0E, 0x03, 0x00, 0x81, 0x01, 0x02, 0x05];
        var reader = new OperatorReader(code);
        reader.Read(out var op);
        Assert.True(reader.AtEnd);
        Assert.Equal(Opcode.BrTable, op.Opcode);
        Assert.Equal(5u, op.Index);
        var targets = reader.BrTableTargets(op);
        Assert.Equal(3, targets.Remaining);
        Assert.Equal(0u, targets.Next());
        Assert.Equal(129u, targets.Next());
        Assert.Equal(2u, targets.Next());
        Assert.Equal(0, targets.Remaining);
    }

    [Fact]
    public void Read_BrTableCountBeyondBody_IsMalformed()
    {
        Assert.Throws<WasmMalformedException>(() => ReadOne([0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]));
    }

    [Fact]
    public void Read_PrefixedOperators_DecodeTheirIndices()
    {
        Assert.Equal(Opcode.I64TruncSatF64U, ReadOne([0xFC, 0x07]).Opcode);
        var init = ReadOne([0xFC, 0x0C, 0x03, 0x01]);
        Assert.Equal((Opcode.TableInit, 3u, 1u), (init.Opcode, init.Index, init.Index2));
        var copy = ReadOne([0xFC, 0x0E, 0x01, 0x02]);
        Assert.Equal((Opcode.TableCopy, 1u, 2u), (copy.Opcode, copy.Index, copy.Index2));
        Assert.Equal(4u, ReadOne([0xFC, 0x08, 0x04, 0x00]).Index);
        Assert.Equal(Opcode.MemoryCopy, ReadOne([0xFC, 0x0A, 0x00, 0x00]).Opcode);
        Assert.Equal(Opcode.TableFill, ReadOne([0xFC, 0x91, 0x00, 0x00]).Opcode); // over-long sub-opcode is fine
    }

    [Theory]
    [InlineData(new byte[] { 0x3F, 0x01 })]
    [InlineData(new byte[] { 0x40, 0x80, 0x00 })]
    [InlineData(new byte[] { 0xFC, 0x0B, 0x01 })]
    [InlineData(new byte[] { 0xFC, 0x0A, 0x00, 0x01 })]
    public void Read_NonZeroReservedByte_IsZeroByteExpected(byte[] code)
    {
        var e = Assert.Throws<WasmMalformedException>(() =>
        {
            var reader = new OperatorReader(code);
            reader.Read(out _);
        });
        Assert.Contains("zero byte expected", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x06 })]
    [InlineData(new byte[] { 0xC5 })]
    [InlineData(new byte[] { 0xFC, 0x12 })]
    [InlineData(new byte[] { 0xFF })]
    public void Read_UnknownOpcode_IsIllegalOpcode(byte[] code)
    {
        var e = Assert.Throws<WasmMalformedException>(() => ReadOne(code));
        Assert.Contains("illegal opcode", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SimdPrefix_IsUnsupported()
    {
        Assert.Throws<WasmUnsupportedFeatureException>(() => ReadOne([0xFD, 0x00, 0x04, 0x00]));
    }

    [Fact]
    public void Read_TypedSelect_RecordsArityAndType()
    {
        var op = ReadOne([0x1C, 0x01, 0x6F]);
        Assert.Equal((1u, WasmValueType.ExternRef), (op.Index, op.RefType));
    }

    [Fact]
    public void Read_EveryOpcodeOfTheEnum_IsKnown()
    {
        foreach (var opcode in Enum.GetValues<Opcode>())
        {
            var value = (ushort)opcode;
            byte[] code = value < 0x100 ? [(byte)value] : [0xFC, (byte)(value & 0xFF)];
            var reader = new OperatorReader([.. code, .. new byte[16]]);
            try
            {
                reader.Read(out var op);
                Assert.Equal(opcode, op.Opcode);
            }
            catch (WasmMalformedException e)
            {
                // Only immediates may be rejected (e.g. a zero block type byte), never the opcode itself.
                Assert.DoesNotContain("illegal opcode", e.Message, StringComparison.Ordinal);
            }
        }
    }
}
