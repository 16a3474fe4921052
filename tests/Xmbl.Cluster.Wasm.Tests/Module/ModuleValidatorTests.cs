using static Xmbl.Cluster.Wasm.Tests.Module.WasmBinaryBuilder;

namespace Xmbl.Cluster.Wasm.Tests.Module;

[Trait("Suite", "BVT")]
public sealed class ModuleValidatorTests
{
    private const byte I32 = 0x7F;
    private const byte I64 = 0x7E;
    private const byte End = 0x0B;

    private static void Valid(byte[] bytes) => ModuleValidator.Validate(ModuleDecoder.Decode(bytes));

    private static string Invalid(byte[] bytes) =>
        Assert.Throws<WasmInvalidException>(() => ModuleValidator.Validate(ModuleDecoder.Decode(bytes))).Message;

    [Fact]
    public void Validate_ConstantResult_IsValid()
    {
        Valid(SingleFunction([I32], 0x41, 0x01, End));
    }

    [Theory]
    [InlineData(new byte[] { End })]                                  // nothing on the stack
    [InlineData(new byte[] { 0x42, 0x01, End })]                      // i64 instead of i32
    [InlineData(new byte[] { 0x41, 0x01, 0x41, 0x02, End })]          // one value too many
    [InlineData(new byte[] { 0x41, 0x01, 0x42, 0x01, 0x6A, End })]    // i32.add of i32 and i64
    public void Validate_WrongStack_IsTypeMismatch(byte[] body)
    {
        Assert.StartsWith("type mismatch", Invalid(SingleFunction([I32], body)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AfterUnreachable_StackIsPolymorphic()
    {
        Valid(SingleFunction([I32], 0x00, 0x6A, End));                  // unreachable; i32.add
        Valid(SingleFunction([I32], 0x00, 0x1B, End));                  // unreachable; select
        Assert.StartsWith("type mismatch", Invalid(SingleFunction([I32], 0x00, 0x42, 0x00, End)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BrTable_TargetsMustAgree()
    {
        // block (result i32) block (result i64) i32.const 0 i32.const 0 br_table 0 1 end ... : arity mismatch types.
        byte[] mismatch = [0x02, I32, 0x02, I64, 0x41, 0x00, 0x41, 0x00, 0x0E, 0x01, 0x00, 0x01, End, 0x1A, 0x41, 0x00, End, End];
        Assert.StartsWith("type mismatch", Invalid(SingleFunction([I32], mismatch)), StringComparison.Ordinal);
        byte[] ok = [0x02, I32, 0x41, 0x07, 0x41, 0x00, 0x0E, 0x01, 0x00, 0x00, End, End];
        Valid(SingleFunction([I32], ok));
    }

    [Fact]
    public void Validate_MultiValueBlockWithTypeIndex_IsValid()
    {
        // type 0: [] -> [i32]; type 1: [i32] -> [i32 i32]. block (type 1) with an i32 param.
        var bytes = new WasmBinaryBuilder().Types(([], [I32]), ([I32], [I32, I32])).Functions(0)
            .Code([0x41, 0x01, 0x02, 0x01, 0x41, 0x02, End, 0x6A, End]).Build();
        Valid(bytes);
    }

    [Fact]
    public void Validate_UnknownIndices_UseSpecWording()
    {
        Assert.StartsWith("unknown local 0", Invalid(SingleFunction([I32], 0x20, 0x00, End)), StringComparison.Ordinal);
        Assert.StartsWith("unknown global 3", Invalid(SingleFunction([I32], 0x23, 0x03, End)), StringComparison.Ordinal);
        Assert.StartsWith("unknown function 9", Invalid(SingleFunction([], 0x10, 0x09, End)), StringComparison.Ordinal);
        Assert.StartsWith("unknown label 1", Invalid(SingleFunction([], 0x0C, 0x01, End)), StringComparison.Ordinal);
        Assert.StartsWith("unknown memory", Invalid(SingleFunction([I32], 0x3F, 0x00, End)), StringComparison.Ordinal);
        Assert.StartsWith("unknown table 0", Invalid(SingleFunction([I32], 0xFC, 0x10, 0x00, End)), StringComparison.Ordinal);
        Assert.StartsWith("unknown type", Invalid(SingleFunction([], 0x02, 0x05, End, End)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OverAlignedLoad_IsRejected()
    {
        var bytes = new WasmBinaryBuilder().Types(([], [I32])).Functions(0).Memory(1).Code([0x41, 0x00, 0x28, 0x03, 0x00, End]).Build();
        Assert.StartsWith("alignment must not be larger than natural", Invalid(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RefFuncOfUndeclaredFunction_IsRejected()
    {
        var undeclared = SingleFunction([0x70], 0xD2, 0x00, End);
        Assert.StartsWith("undeclared function reference", Invalid(undeclared), StringComparison.Ordinal);
        var declared = new WasmBinaryBuilder().Types(([], [0x70])).Functions(0)
            .Section(9, Vec([0x03, 0x00, .. Vec([0x00])])).Code([0xD2, 0x00, End]).Build();
        Valid(declared);
    }

    [Fact]
    public void Validate_DataDropWithoutDataCount_IsMalformed()
    {
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0).Memory(1)
            .Code([0xFC, 0x09, 0x00, End]).Section(11, Vec([0x01, 0x00])).Build();
        var e = Assert.Throws<WasmMalformedException>(() => ModuleValidator.Validate(ModuleDecoder.Decode(bytes)));
        Assert.Contains("data count section required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InvalidBeforeMalformedBody_ReportsMalformed()
    {
        // Function 0 is ill-typed, function 1 has an illegal opcode: decoding comes first, so the module is malformed.
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0, 0).Code([0x41, 0x00, End], [0xFF, End]).Build();
        Assert.Throws<WasmMalformedException>(() => ModuleValidator.Validate(ModuleDecoder.Decode(bytes)));
    }

    [Fact]
    public void Validate_GlobalInitializers_FollowConstantRules()
    {
        byte[] nonConstant = Vec([I32, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6A, End]);
        Assert.StartsWith("constant expression required", Invalid(new WasmBinaryBuilder().Section(6, nonConstant).Build()), StringComparison.Ordinal);
        byte[] twoValues = Vec([I32, 0x00, 0x41, 0x01, 0x41, 0x02, End]);
        Assert.StartsWith("type mismatch", Invalid(new WasmBinaryBuilder().Section(6, twoValues).Build()), StringComparison.Ordinal);
        byte[] forward = Vec([I32, 0x00, 0x23, 0x01, End], [I32, 0x00, 0x41, 0x00, End]);
        Assert.StartsWith("unknown global 1", Invalid(new WasmBinaryBuilder().Section(6, forward).Build()), StringComparison.Ordinal);
        byte[] imports = Vec([.. Name("m"), .. Name("g"), 0x03, I32, 0x01]);
        byte[] ofMutable = Vec([I32, 0x00, 0x23, 0x00, End]);
        Assert.StartsWith("constant expression required", Invalid(new WasmBinaryBuilder().Section(2, imports).Section(6, ofMutable).Build()), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MemoryLimits_FollowTheSpec()
    {
        Assert.StartsWith("memory size must be at most 65536 pages", Invalid(new WasmBinaryBuilder().Memory(65_537).Build()), StringComparison.Ordinal);
        Assert.StartsWith("size minimum must not be greater than maximum", Invalid(new WasmBinaryBuilder().Memory(2, 1).Build()), StringComparison.Ordinal);
        Valid(new WasmBinaryBuilder().Memory(0, 65_536).Build());
        var two = new WasmBinaryBuilder().Section(5, Vec([0x00, 0x01], [0x00, 0x01])).Build();
        Assert.StartsWith("multiple memories", Invalid(two), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateExportNames_AreRejected()
    {
        var bytes = new WasmBinaryBuilder().Types(([], [])).Functions(0)
            .Section(7, Vec([.. Name("a"), 0x00, 0x00], [.. Name("a"), 0x00, 0x00])).Code([End]).Build();
        Assert.StartsWith("duplicate export name", Invalid(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_StartFunctionWithParameters_IsRejected()
    {
        var bytes = new WasmBinaryBuilder().Types(([I32], [])).Functions(0).Section(8, 0x00).Code([End]).Build();
        Assert.StartsWith("start function", Invalid(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TypedSelectWithTwoTypes_IsInvalidResultArity()
    {
        var body = new byte[] { 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x1C, 0x02, I32, I32, End };
        Assert.StartsWith("invalid result arity", Invalid(SingleFunction([I32], body)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UntypedSelectOfReferences_IsTypeMismatch()
    {
        var body = new byte[] { 0xD0, 0x70, 0xD0, 0x70, 0x41, 0x00, 0x1B, 0x1A, End };
        Assert.StartsWith("type mismatch", Invalid(SingleFunction([], body)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TrailingBytesAfterFinalEnd_IsMalformed()
    {
        Assert.Throws<WasmMalformedException>(() => Valid(SingleFunction([], End, 0x01)));
    }

    [Fact]
    public void Validate_DeepNesting_IsBoundedByTheControlDepthLimit()
    {
        var depth = WasmModuleLimits.MaxControlDepth + 10;
        var body = new byte[(depth * 3) + 1];
        for (var i = 0; i < depth; i++)
        {
            body[2 * i] = 0x02;
            body[(2 * i) + 1] = 0x40;
            body[(2 * depth) + i] = End;
        }

        body[^1] = End;
        Assert.Throws<WasmMalformedException>(() => Valid(SingleFunction([], body)));
    }

    [Fact]
    public void Validate_LargeBody_DoesNotAllocatePerInstruction()
    {
        // 100,000 x (local.get 0; i32.const 1; i32.add; local.set 0) inside a loop, in one function.
        var body = new List<byte> { 0x03, 0x40 };
        for (var i = 0; i < 100_000; i++)
        {
            body.AddRange([0x20, 0x00, 0x41, 0x01, 0x6A, 0x21, 0x00]);
        }

        body.AddRange([End, End]);
        var bytes = new WasmBinaryBuilder().Types(([I32], [])).Functions(0).Code([.. body]).Build();
        var module = ModuleDecoder.Decode(bytes);
        ModuleValidator.Validate(module);
        var before = GC.GetAllocatedBytesForCurrentThread();
        ModuleValidator.Validate(module);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 * 1024, $"validating 400,000 operators allocated {allocated} bytes");
    }
}
