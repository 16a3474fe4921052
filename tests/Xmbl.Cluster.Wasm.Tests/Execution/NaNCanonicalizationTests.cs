using static Xmbl.Cluster.Wasm.Tests.Execution.Harness;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

/// <summary>
/// Arithmetic NaNs are canonicalized where their bits become observable rather than where they are produced; every
/// path out of an arithmetic result must still see exactly the bits eager canonicalization gives.
/// </summary>
[Trait("Suite", "BVT")]
public sealed class NaNCanonicalizationTests
{
    private const byte F64Add = 0xA0;
    private const byte F64Mul = 0xA2;
    private const byte F64Neg = 0x9A;
    private const byte F64Copysign = 0xA6;
    private const byte I64ReinterpretF64 = 0xBD;
    private const byte Select = 0x1B;
    private const ulong Canonical = 0x7FF8_0000_0000_0000;

    // A negative signaling NaN with a payload: x86 and Arm both quiet it and keep sign and payload in `x + 1`.
    private static readonly WasmValue PayloadNaN = WasmValue.FromF64Bits(0xFFF0_0000_0000_1234);

    private static readonly WasmValueType[] F64F64 = [WasmValueType.F64, WasmValueType.F64];

    /// <summary>Pushes `x + 1` (an uncanonicalized NaN for the payload argument).</summary>
    private static Code Sum(Code code) => code.LocalGet(0).F64Const(1).Op(F64Add);

    private static ulong Run(Code body, params WasmValueType[] locals) =>
        (ulong)Call(Instantiate(Single(F64, I64, body, locals)), "f", PayloadNaN).I64;

    [Fact]
    public void ArithmeticResult_ReturnedToHost_IsCanonical() =>
        Assert.Equal(Canonical, Call(Instantiate(Single(F64, F64, Sum(new Code()))), "f", PayloadNaN).F64Bits);

    [Fact]
    public void ArithmeticChain_Reinterpreted_IsCanonical() =>
        Assert.Equal(Canonical, Run(Sum(Sum(new Code())).Op(F64Mul).Op(I64ReinterpretF64)));

    [Fact]
    public void LocalWrittenInOneBlock_ReadAfterABranch_IsCanonical() =>
        Assert.Equal(Canonical, Run(Sum(new Code()).LocalSet(1)
            .Block().I32Const(1).BrIf(0).End()
            .LocalGet(1).Op(I64ReinterpretF64), WasmValueType.F64));

    [Fact]
    public void LocalWrittenInThenBranch_ReadAfterTheMergeWithACleanElse_IsCanonical() =>
        Assert.Equal(Canonical, Run(new Code().I32Const(1).If().Op(Sum(new Code()).ToArray()).LocalSet(1)
            .Else().LocalGet(0).LocalSet(1).End()
            .LocalGet(1).Op(I64ReinterpretF64), WasmValueType.F64));

    [Fact]
    public void LocalTeeThenNeg_NegatesTheCanonicalNaN() =>
        Assert.Equal(Canonical | 0x8000_0000_0000_0000, Run(Sum(new Code()).LocalTee(1).Drop()
            .LocalGet(1).Op(F64Neg).Op(I64ReinterpretF64), WasmValueType.F64));

    [Fact]
    public void CopysignOfTwoArithmeticNaNs_IsCanonical() =>
        Assert.Equal(Canonical, Run(Sum(Sum(new Code())).Op(F64Copysign).Op(I64ReinterpretF64)));

    [Fact]
    public void SelectBetweenArithmeticNaNs_BelowTheCondition_IsCanonical() =>
        Assert.Equal(Canonical, Run(Sum(Sum(new Code())).I32Const(1).Op(Select).Op(I64ReinterpretF64)));

    [Fact]
    public void ArithmeticNaNsPassedAsArguments_ReachTheCalleeCanonical()
    {
        var module = new TestModule();
        var first = module.Function(F64F64, I64, new Code().LocalGet(0).Op(I64ReinterpretF64));
        module.Export("f", module.Function(F64, I64, Sum(Sum(new Code())).Call(first)));
        Assert.Equal(Canonical, (ulong)Call(Instantiate(module.Build()), "f", PayloadNaN).I64);
    }

    [Fact]
    public void LoadedNaNPayload_NotUsedInArithmetic_IsKept() =>
        Assert.Equal(0xFFF0_0000_0000_1234, Run(new Code().LocalGet(0).LocalSet(1)
            .Block().End().LocalGet(1).Op(I64ReinterpretF64), WasmValueType.F64));
}
