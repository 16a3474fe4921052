using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// The code of one validated module, translated lazily: a defined function becomes IL on its first call, as the
/// single static method <c>R f(params..., int depth, InstanceContext ctx)</c> of its own class <c>f{i}</c> in the
/// module's collectible dynamic assembly (for a frame over one stack unit: class <c>f{i}w</c>, where <c>f</c> is a
/// wrapper charging the stack budget and <c>b</c> the body; see <see cref="StackBudget"/>). Compiling therefore costs
/// decode + validate only, and a module pays IL emission and JIT just for the functions it runs.
/// </summary>
/// <remarks>
/// <para>Every defined function has an entry slot (in a pinned array, read through <see cref="Entries"/> without a
/// bounds check) that holds its code pointer once translated and 0 before. Calls between functions go through
/// <see cref="RuntimeOps.FunctionEntry"/>, which returns the slot or translates; calls to the function itself and to
/// functions translated before the caller are direct IL <c>call</c>s. Calls through <see cref="Function"/> objects
/// (imports, tables, the host) use <see cref="Function.EntryPoint"/> the same way.</para>
/// <para>Thread safety: translation of a module is serialized by a lock (the emit API is not thread-safe); a slot
/// is published with a volatile write after its type is created, so a reader sees 0 (and takes the lock) or a
/// complete entry. Translation happens outside the guest's accounting, so fuel and the call-depth count are the same
/// whether or not a function had already been translated.</para>
/// </remarks>
internal sealed unsafe class ModuleCode
{
    private static int _assemblyCounter;

    private readonly Lock _gate = new();
    private readonly string _name;
    private readonly bool _fuel;
    private readonly bool _canonicalizeNaNs;
    private readonly nint[] _entries;
    private readonly MethodInfo?[] _methods;
    private ModuleBuilder? _moduleBuilder;
    private TokenCache? _tokens;
    private int _translatedCount;

    public ModuleCode(WasmModule module, string name, bool fuel, bool canonicalizeNaNs)
    {
        Module = module;
        _name = name;
        _fuel = fuel;
        _canonicalizeNaNs = canonicalizeNaNs;
        TypeIds = new int[module.Types.Length];
        for (var i = 0; i < TypeIds.Length; i++)
        {
            TypeIds[i] = FuncTypeRegistry.GetId(module.Types[i]);
        }

        // Pinned so generated code can index it through a raw pointer (no bounds check on the call path).
        _entries = GC.AllocateArray<nint>(module.Functions.Length, pinned: true);
        Entries = (nint*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_entries));
        _methods = new MethodInfo?[module.Functions.Length];
    }

    public WasmModule Module { get; }

    /// <summary>Canonical signature id of each type-section entry.</summary>
    public int[] TypeIds { get; }

    /// <summary>Entry slot of each defined function (index = defined-function index); 0 until translated.</summary>
    public nint* Entries { get; }

    /// <summary>How many defined functions have been translated so far.</summary>
    public int TranslatedCount => Volatile.Read(ref _translatedCount);

    /// <summary>The code pointer of defined function <paramref name="definedIndex"/>, translating it on first use.</summary>
    public nint GetEntry(int definedIndex)
    {
        var entry = Volatile.Read(ref _entries[definedIndex]);
        return entry != 0 ? entry : Translate(definedIndex);
    }

    /// <summary>The code pointer of defined function <paramref name="definedIndex"/> if it is translated, else 0.</summary>
    public nint PeekEntry(int definedIndex) => Volatile.Read(ref _entries[definedIndex]);

    /// <summary>The created method of an already translated function, for a direct call; null if not translated.</summary>
    /// <remarks>Only called during translation, under the lock.</remarks>
    public MethodInfo? TranslatedMethod(int definedIndex) => _methods[definedIndex];

    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint Translate(int definedIndex)
    {
        lock (_gate)
        {
            var entry = _entries[definedIndex];
            if (entry != 0)
            {
                return entry;
            }

            try
            {
                entry = TranslateLocked(definedIndex);
            }
            catch (Exception ex) when (ex is not WasmException)
            {
                throw new WasmCompileException($"translation of function {definedIndex + Module.ImportedFunctionCount} to IL failed: {ex.Message}", ex);
            }

            Volatile.Write(ref _entries[definedIndex], entry);
            Volatile.Write(ref _translatedCount, _translatedCount + 1);
            return entry;
        }
    }

    private nint TranslateLocked(int definedIndex)
    {
        _moduleBuilder ??= Il.DefineAssembly(
            "Xmbl.Cluster.Wasm.Compiled." + _name + "." + Interlocked.Increment(ref _assemblyCounter).ToString(System.Globalization.CultureInfo.InvariantCulture),
            collectible: true);
        _tokens ??= new TokenCache(_moduleBuilder);

        var body = Module.Functions[definedIndex];
        var type = Module.Types[body.TypeIndex];
        var name = "f" + definedIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Most functions fit one stack unit and charge it in their own prologue. For a larger frame the first
        // translation is dropped (its type is never created) and the function is emitted again as a body behind a
        // wrapper that charges the whole frame before the JIT's prologue allocates and zeroes it.
        var typeBuilder = _moduleBuilder.DefineType(name, TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract);
        var method = typeBuilder.DefineMethod("f", MethodAttributes.Public | MethodAttributes.Static, Il.ReturnType(type), Il.ParameterTypes(type));
        method.SetImplementationFlags(Il.FunctionImpl);
        var il = new IlBuffer(method.GetILGenerator(Math.Max(64, body.Code.Length * 4)), _tokens);
        var translator = new FunctionTranslator(this, definedIndex, method, il, _fuel, _canonicalizeNaNs, wrapped: false);
        translator.Translate();
        if (StackBudget.FrameUnits(translator.FrameBytes) > 1)
        {
            typeBuilder = _moduleBuilder.DefineType(name + "w", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract);
            method = typeBuilder.DefineMethod("f", MethodAttributes.Public | MethodAttributes.Static, Il.ReturnType(type), Il.ParameterTypes(type));
            method.SetImplementationFlags(Il.FunctionImpl);
            var bodyMethod = typeBuilder.DefineMethod("b", MethodAttributes.Public | MethodAttributes.Static, Il.ReturnType(type), Il.ParameterTypes(type));
            bodyMethod.SetImplementationFlags(Il.FunctionImpl | MethodImplAttributes.NoInlining);
            il = new IlBuffer(bodyMethod.GetILGenerator(Math.Max(64, body.Code.Length * 4)), _tokens);
            translator = new FunctionTranslator(this, definedIndex, method, il, _fuel, _canonicalizeNaNs, wrapped: true);
            translator.Translate();
            EmitWrapper(method.GetILGenerator(), type, bodyMethod, translator.FrameBytes);
        }

        var created = typeBuilder.CreateType();
        var runtimeMethod = created.GetMethod("f", BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)!;
        _methods[definedIndex] = runtimeMethod;
        return runtimeMethod.MethodHandle.GetFunctionPointer();
    }

    /// <summary>
    /// The entry of a large-frame function: charges its units, then (safety net, never reached while the estimate
    /// holds) checks that the real stack has room for the frame, then calls the body with the remaining budget.
    /// </summary>
    private static void EmitWrapper(ILGenerator il, FuncType type, MethodInfo body, long frameBytes)
    {
        var parameters = type.Parameters.Count;
        var depthArg = (short)parameters;
        var marker = il.DeclareLocal(typeof(int));
        var budgetOk = il.DefineLabel();
        var stackOk = il.DefineLabel();
        il.Emit(OpCodes.Ldarg, depthArg);
        il.Emit(OpCodes.Ldc_I4, StackBudget.FrameUnits(frameBytes));
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Starg, depthArg);
        il.Emit(OpCodes.Ldarg, depthArg);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Bge, budgetOk);
        Il.EmitInt(il, (int)TrapKind.CallStackExhausted);
        il.Emit(OpCodes.Call, Il.CreateTrap);
        il.Emit(OpCodes.Throw);
        il.MarkLabel(budgetOk);

        // (nuint)&marker - (frame + margin) >= GuestThread.StackLimit (0 off guest threads: never traps there).
        il.Emit(OpCodes.Ldloca, marker);
        il.Emit(OpCodes.Conv_U);
        il.Emit(OpCodes.Ldc_I8, frameBytes + StackBudget.SafetyNetMarginBytes);
        il.Emit(OpCodes.Conv_U);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Ldsfld, typeof(GuestThread).GetField(nameof(GuestThread.StackLimit), BindingFlags.NonPublic | BindingFlags.Static)!);
        il.Emit(OpCodes.Bge_Un, stackOk);
        Il.EmitInt(il, (int)TrapKind.CallStackExhausted);
        il.Emit(OpCodes.Call, Il.CreateTrap);
        il.Emit(OpCodes.Throw);
        il.MarkLabel(stackOk);

        for (var i = 0; i <= parameters + 1; i++)
        {
            il.Emit(OpCodes.Ldarg, (short)i);
        }

        il.Emit(OpCodes.Call, body);
        il.Emit(OpCodes.Ret);
    }
}
