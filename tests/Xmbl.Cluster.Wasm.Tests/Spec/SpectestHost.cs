namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>
/// The <c>spectest</c> host module the suite imports (WebAssembly/spec interpreter/host/spectest.ml): no-op print
/// functions, four immutable globals of 666 / 666.6, a funcref table of 10 (max 20) and a memory of 1 (max 2) pages.
/// </summary>
internal static class SpectestHost
{
    public const string ModuleName = "spectest";

    public static void Define(Linker linker)
    {
        static void NoOp(Caller caller, ReadOnlySpan<WasmValue> args, Span<WasmValue> results)
        {
        }

        const WasmValueType I32 = WasmValueType.I32;
        const WasmValueType I64 = WasmValueType.I64;
        const WasmValueType F32 = WasmValueType.F32;
        const WasmValueType F64 = WasmValueType.F64;
        linker.Define(ModuleName, "print", new FuncType([], []), NoOp);
        linker.Define(ModuleName, "print_i32", new FuncType([I32], []), NoOp);
        linker.Define(ModuleName, "print_i64", new FuncType([I64], []), NoOp);
        linker.Define(ModuleName, "print_f32", new FuncType([F32], []), NoOp);
        linker.Define(ModuleName, "print_f64", new FuncType([F64], []), NoOp);
        linker.Define(ModuleName, "print_i32_f32", new FuncType([I32, F32], []), NoOp);
        linker.Define(ModuleName, "print_f64_f64", new FuncType([F64, F64], []), NoOp);
        linker.Define(ModuleName, "global_i32", new Global(I32, false, WasmValue.FromI32(666)));
        linker.Define(ModuleName, "global_i64", new Global(I64, false, WasmValue.FromI64(666)));
        linker.Define(ModuleName, "global_f32", new Global(F32, false, WasmValue.FromF32(666.6f)));
        linker.Define(ModuleName, "global_f64", new Global(F64, false, WasmValue.FromF64(666.6)));
        linker.Define(ModuleName, "table", new Table(WasmValueType.FuncRef, 10, 20));
        linker.Define(ModuleName, "memory", new Memory(1, 2));
    }
}

/// <summary>A host reference passed as an <c>externref</c> argument (<c>ref.extern N</c> in the wast files).</summary>
internal sealed record SpecHostReference(ulong Id);
