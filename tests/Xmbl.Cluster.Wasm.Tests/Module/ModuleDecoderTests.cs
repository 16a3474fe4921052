using System.Runtime.InteropServices;
using static Xmbl.Cluster.Wasm.Tests.Module.WasmBinaryBuilder;

namespace Xmbl.Cluster.Wasm.Tests.Module;

[Trait("Suite", "BVT")]
public sealed class ModuleDecoderTests
{
    private const byte I32 = 0x7F;
    private const byte End = 0x0B;

    private static WasmMalformedException Malformed(byte[] bytes) =>
        Assert.Throws<WasmMalformedException>(() => ModuleDecoder.Decode(bytes));

    [Fact]
    public void Decode_EmptyModule_HasNoDefinitions()
    {
        var module = ModuleDecoder.Decode(new WasmBinaryBuilder().Build());
        Assert.Empty(module.Types);
        Assert.Empty(module.Functions);
        Assert.Null(module.Start);
    }

    [Theory]
    [InlineData(new byte[] { }, "unexpected end")]
    [InlineData(new byte[] { 0x00, 0x61, 0x73 }, "unexpected end")]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6E, 0x01, 0x00, 0x00, 0x00 }, "magic header not detected")]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00 }, "unexpected end")]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00 }, "unknown binary version")]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x0D, 0x00 }, "malformed section id")]
    public void Decode_BadHeader_IsMalformed(byte[] bytes, string message)
    {
        Assert.Contains(message, Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SectionSizeBeyondInput_IsMalformed()
    {
        var bytes = new WasmBinaryBuilder().Raw(0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00).Build();
        Assert.Contains("length out of bounds", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_AbsurdTypeCount_IsRejectedBeforeAllocating()
    {
        // 2^32-1 types announced in a section of 6 bytes.
        var bytes = new WasmBinaryBuilder().Section(1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x60).Build();
        Malformed(bytes);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        Malformed(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 64 * 1024, "decoder allocated for an absurd count");
    }

    [Fact]
    public void Decode_SectionLongerThanItsContent_IsSectionSizeMismatch()
    {
        var bytes = new WasmBinaryBuilder().Section(3, 0x00, 0x00).Build();
        Assert.Contains("section size mismatch", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SectionsOutOfOrderOrRepeated_AreMalformed()
    {
        var outOfOrder = new WasmBinaryBuilder().Functions().Types().Build();
        Assert.Contains("unexpected content after last section", Malformed(outOfOrder).Message, StringComparison.Ordinal);
        var repeated = new WasmBinaryBuilder().Types().Types().Build();
        Malformed(repeated);
    }

    [Fact]
    public void Decode_DataCountBeforeCode_IsAccepted()
    {
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0).Section(12, 0x00).Code([End]).Build();
        var module = ModuleDecoder.Decode(bytes);
        Assert.Equal(0u, module.DataCount);
    }

    [Fact]
    public void Decode_CustomSectionsAnywhere_AreIgnoredButNamesValidated()
    {
        var custom = new WasmBinaryBuilder().Section(0, [.. Name("name"), 0x01, 0x02]).Types(([], [])).Section(0, [.. Name("x")]).Build();
        Assert.Single(ModuleDecoder.Decode(custom).Types);
        var badName = new WasmBinaryBuilder().Section(0, 0x01, 0xFF).Build();
        Assert.Contains("malformed UTF-8 encoding", Malformed(badName).Message, StringComparison.Ordinal);
        var emptySection = new WasmBinaryBuilder().Section(0).Build();
        Malformed(emptySection);
    }

    [Fact]
    public void Decode_FunctionAndCodeCountsDiffer_IsMalformed()
    {
        var missingCode = new WasmBinaryBuilder().Types(([], [])).Functions(0).Build();
        Assert.Contains("function and code section have inconsistent lengths", Malformed(missingCode).Message, StringComparison.Ordinal);
        var extraCode = new WasmBinaryBuilder().Types(([], [])).Functions(0).Code([End], [End]).Build();
        Assert.Contains("inconsistent lengths", Malformed(extraCode).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_DataCountDiffersFromDataSection_IsMalformed()
    {
        var bytes = new WasmBinaryBuilder().Memory(1).Section(12, 0x02).Section(11, 0x01, 0x01, 0x00).Build();
        Assert.Contains("data count and data section have inconsistent lengths", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TooManyLocals_IsMalformed()
    {
        // Two local groups of 2^32-1 i32 each.
        byte[] body = [0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, I32, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, I32, End];
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0).Section(10, Vec([.. Leb((ulong)body.Length), .. body])).Build();
        Assert.Contains("too many locals", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_LocalsAtTheLimit_AreExpanded()
    {
        byte[] body = [0x01, .. Leb(WasmModuleLimits.MaxFunctionLocals), 0x7E, End];
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0).Section(10, Vec([.. Leb((ulong)body.Length), .. body])).Build();
        var module = ModuleDecoder.Decode(bytes);
        Assert.Equal(WasmModuleLimits.MaxFunctionLocals, module.Functions[0].Locals.Length);
        Assert.All(module.Functions[0].Locals, t => Assert.Equal(WasmValueType.I64, t));
    }

    [Fact]
    public void Decode_ManyBodiesDeclaringTheMaximumLocals_HitModuleWideLocalLimit()
    {
        // Each body is 6 bytes but declares 50,000 locals; without a module-wide cap 7 bytes would claim 50 KB.
        var functions = (WasmModuleLimits.MaxModuleLocals / WasmModuleLimits.MaxFunctionLocals) + 1;
        byte[] body = [0x01, .. Leb(WasmModuleLimits.MaxFunctionLocals), I32, End];
        var code = Enumerable.Repeat((byte[])[.. Leb((ulong)body.Length), .. body], functions).ToArray();
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(new uint[functions]).Section(10, Vec(code)).Build();
        Assert.Contains("too many locals in the module", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ElementItemCountOverLimit_IsRejectedBeforeReadingItems()
    {
        byte[] segment = [0x01, 0x00, .. Leb(WasmModuleLimits.MaxElementItems + 1UL)];
        var bytes = new WasmBinaryBuilder().Section(9, [0x01, .. segment]).Build();
        Assert.Contains("exceeds the limit", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_FunctionCountOverLimit_IsMalformed()
    {
        var count = WasmModuleLimits.MaxFunctions + 1;
        var bytes = new WasmBinaryBuilder().Types(([], [])).Section(3, [.. Leb((ulong)count), .. new byte[count]]).Build();
        Assert.Contains("exceeds the limit", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_BodyOverSizeLimit_IsMalformed()
    {
        var size = WasmModuleLimits.MaxFunctionBodyBytes + 1;
        var body = new byte[size];
        body[^1] = End;
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0).Section(10, Vec([.. Leb((ulong)size), .. body])).Build();
        Assert.Contains("exceeds the limit", Malformed(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_Body_IsASliceOfTheInput()
    {
        var bytes = WasmBinaryBuilder.SingleFunction([I32], 0x41, 0x2A, End);
        var module = ModuleDecoder.Decode(bytes);
        var body = module.Functions[0];
        Assert.True(MemoryMarshal.TryGetArray(body.Code, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(body.CodeOffset, segment.Offset);
        Assert.Equal(new byte[] { 0x41, 0x2A, End }, body.Code.ToArray());
    }

    [Fact]
    public void Decode_ImportsAndExports_AreIndexedPerKind()
    {
        byte[] imports = Vec(
            [.. Name("env"), .. Name("f"), 0x00, 0x00],
            [.. Name("env"), .. Name("g"), 0x03, I32, 0x00],
            [.. Name("env"), .. Name("m"), 0x02, 0x01, 0x01, 0x02],
            [.. Name("env"), .. Name("t"), 0x01, 0x70, 0x00, 0x0A]);
        byte[] exports = Vec([.. Name("f"), 0x00, 0x01], [.. Name("mem"), 0x02, 0x00]);
        var bytes = new WasmBinaryBuilder().Types(([], [])).Section(2, imports).Functions(0).Section(7, exports).Code([End]).Build();
        var module = ModuleDecoder.Decode(bytes);
        Assert.Equal(1, module.ImportedFunctionCount);
        Assert.Equal([0u, 0u], module.FunctionTypeIndices);
        Assert.Equal(new GlobalType(WasmValueType.I32, false), module.GlobalTypes[0]);
        Assert.Equal(new Limits(1, 2), module.Memories[0].Limits);
        Assert.Equal(new TableType(WasmValueType.FuncRef, new Limits(10, null)), module.Tables[0]);
        Assert.Equal(new WasmExport("mem", ExternalKind.Memory, 0), module.Exports[1]);
        ModuleValidator.Validate(module);
    }

    [Fact]
    public void Decode_ElementSegmentForms_AreNormalizedToExpressions()
    {
        byte[] elements = Vec(
            [0x00, 0x41, 0x00, End, .. Vec([0x00], [0x00])],         // active table 0, function indices
            [0x01, 0x00, .. Vec([0x00])],                              // passive, function indices
            [0x05, 0x70, .. Vec([0xD0, 0x70, End], [0xD2, 0x00, End])], // passive, expressions
            [0x03, 0x00, .. Vec([0x00])]);                             // declarative
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0)
            .Section(4, Vec([0x70, 0x00, 0x02])).Section(9, elements).Code([End]).Build();
        var module = ModuleDecoder.Decode(bytes);
        Assert.Equal(SegmentMode.Active, module.Elements[0].Mode);
        Assert.Equal(ConstExprKind.I32Const, module.Elements[0].Offset.Kind);
        Assert.Equal(2, module.Elements[0].Items.Length);
        Assert.Equal(ConstExprKind.RefFunc, module.Elements[1].Items[0].Kind);
        Assert.Equal(SegmentMode.Passive, module.Elements[2].Mode);
        Assert.Equal(ConstExprKind.RefNull, module.Elements[2].Items[0].Kind);
        Assert.Equal(SegmentMode.Declarative, module.Elements[3].Mode);
        ModuleValidator.Validate(module);
    }

    [Fact]
    public void Decode_ConstExprValues_AreDecoded()
    {
        byte[] globals = Vec(
            [I32, 0x00, 0x41, 0x7F, End],
            [0x7E, 0x01, 0x42, 0x80, 0x01, End],
            [0x7D, 0x00, 0x43, 0x00, 0x00, 0x80, 0x3F, End]);
        var module = ModuleDecoder.Decode(new WasmBinaryBuilder().Section(6, globals).Build());
        Assert.Equal(ulong.MaxValue, module.Globals[0].Init.Value);
        Assert.True(module.Globals[1].Type.Mutable);
        Assert.Equal(128UL, module.Globals[1].Init.Value);
        Assert.Equal((ulong)BitConverter.SingleToUInt32Bits(1f), module.Globals[2].Init.Value);
    }

    [Fact]
    public void Decode_SimdValueTypeOrOpcode_IsUnsupported()
    {
        var simdType = new WasmBinaryBuilder().Types(([0x7B], [])).Build();
        Assert.Throws<WasmUnsupportedFeatureException>(() => ModuleDecoder.Decode(simdType));
        var simdOpcode = WasmBinaryBuilder.SingleFunction([], 0xFD, 0x0C, End);
        var module = ModuleDecoder.Decode(simdOpcode);
        var e = Assert.Throws<WasmUnsupportedFeatureException>(() => ModuleValidator.Validate(module));
        Assert.Contains("SIMD is not supported", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(0x80)]
    public void Decode_BadLimitsFlags_IsMalformed(byte flags)
    {
        var bytes = new WasmBinaryBuilder().Section(5, 0x01, flags, 0x00, 0x00).Build();
        Malformed(bytes);
    }

    [Fact]
    public void Decode_EveryTruncationOfAValidModule_IsMalformed()
    {
        byte[] globals = Vec([I32, 0x00, 0x41, 0x05, End]);
        byte[] exports = Vec([.. Name("run"), 0x00, 0x00]);
        var full = new WasmBinaryBuilder().Types(([I32], [I32])).Functions(0).Memory(1, 2).Section(6, globals).Section(7, exports)
            .Code([0x20, 0x00, 0x23, 0x00, 0x6A, End]).Build();
        ModuleValidator.Validate(ModuleDecoder.Decode(full));
        var accepted = new List<int>();
        for (var length = 0; length < full.Length; length++)
        {
            try
            {
                ModuleDecoder.Decode(full.AsMemory(0, length));
                accepted.Add(length);
            }
            catch (WasmMalformedException)
            {
            }
        }

        // Only the bare header and the header plus the type section (8 bytes) are well-formed prefixes: every later
        // cut either splits a section or leaves the function section without its code section.
        Assert.Equal([8, 16], accepted);
    }
}
