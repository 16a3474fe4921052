using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace Xmbl.Cluster.Wasm;

/// <summary>Reflection handles and small IL idioms shared by the translator, invokers and trampolines.</summary>
internal static class Il
{
    private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    public static readonly FieldInfo CtxStore = Field<InstanceContext>(nameof(InstanceContext.Store));
    public static readonly FieldInfo CtxMemory0 = Field<InstanceContext>(nameof(InstanceContext.Memory0));
    public static readonly FieldInfo CtxGlobals = Field<InstanceContext>(nameof(InstanceContext.Globals));
    public static readonly FieldInfo CtxTables = Field<InstanceContext>(nameof(InstanceContext.Tables));
    public static readonly FieldInfo CtxFunctions = Field<InstanceContext>(nameof(InstanceContext.Functions));
    public static readonly FieldInfo StoreFuelLeft = Field<Store>(nameof(Store.FuelLeft));
    public static readonly FieldInfo StoreDepthLeft = Field<Store>(nameof(Store.DepthLeft));
    public static readonly FieldInfo StoreInterrupt = Field<Store>(nameof(Store.Interrupt));
    public static readonly FieldInfo StoreResultBits = Field<Store>(nameof(Store.ResultBits));
    public static readonly FieldInfo StoreResultRefs = Field<Store>(nameof(Store.ResultRefs));
    public static readonly FieldInfo MemoryBase = Field<Memory>(nameof(Memory.BaseAddress));
    public static readonly FieldInfo MemoryLength = Field<Memory>(nameof(Memory.ByteLength));
    public static readonly FieldInfo MemoryPages = Field<Memory>(nameof(Memory.PageCount));
    public static readonly FieldInfo GlobalBits = Field<Global>(nameof(Global.Bits));
    public static readonly FieldInfo GlobalRef = Field<Global>(nameof(Global.Reference));
    public static readonly FieldInfo TableElements = Field<Table>(nameof(Table.Elements));
    public static readonly FieldInfo FunctionTypeId = Field<Function>(nameof(Function.TypeId));
    public static readonly MethodInfo FunctionEntryPoint = Method(typeof(Function), nameof(Function.EntryPoint));
    public static readonly MethodInfo ModuleFunctionEntry = Method(typeof(RuntimeOps), nameof(RuntimeOps.FunctionEntry));
    public static readonly FieldInfo FunctionContext = Field<Function>(nameof(Function.Context));

    public static readonly MethodInfo F32ToBits = typeof(BitConverter).GetMethod(nameof(BitConverter.SingleToUInt32Bits))!;
    public static readonly MethodInfo F32FromBits = typeof(BitConverter).GetMethod(nameof(BitConverter.UInt32BitsToSingle))!;
    public static readonly MethodInfo F64ToBits = typeof(BitConverter).GetMethod(nameof(BitConverter.DoubleToUInt64Bits))!;
    public static readonly MethodInfo F64FromBits = typeof(BitConverter).GetMethod(nameof(BitConverter.UInt64BitsToDouble))!;
    public static readonly MethodInfo CreateTrap = Method(typeof(Traps), nameof(Traps.Create));

    public static FieldInfo Field<T>(string name) => typeof(T).GetField(name, Any) ?? throw new MissingFieldException(typeof(T).Name, name);

    public static MethodInfo Method(Type type, string name) => type.GetMethod(name, Any) ?? throw new MissingMethodException(type.Name, name);

    public static Type ClrType(WasmValueType type) => type switch
    {
        WasmValueType.I32 => typeof(int),
        WasmValueType.I64 => typeof(long),
        WasmValueType.F32 => typeof(float),
        WasmValueType.F64 => typeof(double),
        WasmValueType.FuncRef or WasmValueType.ExternRef => typeof(object),
        _ => throw new WasmUnsupportedFeatureException($"value type {type.ToWatName()} is not supported"),
    };

    /// <summary>
    /// The CLR signature of compiled code for <paramref name="type"/>: params..., int remainingDepth, InstanceContext →
    /// first result or void. The remaining call depth travels as an argument so no shared counter is updated per call.
    /// </summary>
    public static Type[] ParameterTypes(FuncType type)
    {
        var parameters = type.ParameterSpan;
        var clr = new Type[parameters.Length + 2];
        for (var i = 0; i < parameters.Length; i++)
        {
            clr[i] = ClrType(parameters[i]);
        }

        clr[^2] = typeof(int);
        clr[^1] = typeof(InstanceContext);
        return clr;
    }

    public static Type ReturnType(FuncType type) => type.Results.Count == 1 ? ClrType(type.Results[0]) : typeof(void);

    public static void EmitCalli(ILGenerator il, FuncType type) =>
        il.EmitCalli(OpCodes.Calli, CallingConventions.Standard, ReturnType(type), ParameterTypes(type), null);

    /// <summary>ulong on the stack → a value of <paramref name="type"/> (numeric types only).</summary>
    public static void EmitFromBits(ILGenerator il, WasmValueType type)
    {
        switch (type)
        {
            case WasmValueType.I32:
                il.Emit(OpCodes.Conv_I4);
                break;
            case WasmValueType.I64:
                break;
            case WasmValueType.F32:
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Call, F32FromBits);
                break;
            case WasmValueType.F64:
                il.Emit(OpCodes.Call, F64FromBits);
                break;
            default:
                throw new InvalidOperationException("not a numeric type");
        }
    }

    /// <summary>A value of <paramref name="type"/> on the stack → ulong bits (numeric types only).</summary>
    public static void EmitToBits(ILGenerator il, WasmValueType type)
    {
        switch (type)
        {
            case WasmValueType.I32:
                il.Emit(OpCodes.Conv_U4);
                il.Emit(OpCodes.Conv_U8);
                break;
            case WasmValueType.I64:
                break;
            case WasmValueType.F32:
                il.Emit(OpCodes.Call, F32ToBits);
                il.Emit(OpCodes.Conv_U8);
                break;
            case WasmValueType.F64:
                il.Emit(OpCodes.Call, F64ToBits);
                break;
            default:
                throw new InvalidOperationException("not a numeric type");
        }
    }

    /// <summary>Loads slot <paramref name="index"/> of the store's result buffers as <paramref name="type"/>; <paramref name="loadStore"/> pushes the store.</summary>
    public static void EmitLoadSlot(ILGenerator il, Action<ILGenerator> loadStore, int index, WasmValueType type)
    {
        loadStore(il);
        if (type.IsReference())
        {
            il.Emit(OpCodes.Ldfld, StoreResultRefs);
            EmitInt(il, index);
            il.Emit(OpCodes.Ldelem_Ref);
        }
        else
        {
            il.Emit(OpCodes.Ldfld, StoreResultBits);
            EmitInt(il, index);
            il.Emit(OpCodes.Ldelem_I8);
            EmitFromBits(il, type);
        }
    }

    /// <summary>Stores the local <paramref name="value"/> into slot <paramref name="index"/> of the store's result buffers.</summary>
    public static void EmitStoreSlot(ILGenerator il, Action<ILGenerator> loadStore, int index, WasmValueType type, LocalBuilder value)
    {
        loadStore(il);
        if (type.IsReference())
        {
            il.Emit(OpCodes.Ldfld, StoreResultRefs);
            EmitInt(il, index);
            il.Emit(OpCodes.Ldloc, value);
            il.Emit(OpCodes.Stelem_Ref);
        }
        else
        {
            il.Emit(OpCodes.Ldfld, StoreResultBits);
            EmitInt(il, index);
            il.Emit(OpCodes.Ldloc, value);
            EmitToBits(il, type);
            il.Emit(OpCodes.Stelem_I8);
        }
    }

    public static void EmitInt(ILGenerator il, int value)
    {
        switch (value)
        {
            case -1: il.Emit(OpCodes.Ldc_I4_M1); break;
            case 0: il.Emit(OpCodes.Ldc_I4_0); break;
            case 1: il.Emit(OpCodes.Ldc_I4_1); break;
            case 2: il.Emit(OpCodes.Ldc_I4_2); break;
            case 3: il.Emit(OpCodes.Ldc_I4_3); break;
            case 4: il.Emit(OpCodes.Ldc_I4_4); break;
            case 5: il.Emit(OpCodes.Ldc_I4_5); break;
            case 6: il.Emit(OpCodes.Ldc_I4_6); break;
            case 7: il.Emit(OpCodes.Ldc_I4_7); break;
            case 8: il.Emit(OpCodes.Ldc_I4_8); break;
            case >= sbyte.MinValue and <= sbyte.MaxValue: il.Emit(OpCodes.Ldc_I4_S, (sbyte)value); break;
            default: il.Emit(OpCodes.Ldc_I4, value); break;
        }
    }

    /// <summary>Emits <c>throw Traps.Create(kind)</c>.</summary>
    public static void EmitTrap(ILGenerator il, TrapKind kind)
    {
        EmitInt(il, (int)kind);
        il.Emit(OpCodes.Call, CreateTrap);
        il.Emit(OpCodes.Throw);
    }

    /// <summary>Creates a collectible (or permanent) dynamic assembly whose code may use this assembly's internals.</summary>
    public static ModuleBuilder DefineAssembly(string name, bool collectible)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(
            new AssemblyName(name),
            collectible ? AssemblyBuilderAccess.RunAndCollect : AssemblyBuilderAccess.Run);
        var ignoreChecks = typeof(IgnoresAccessChecksToAttribute).GetConstructor([typeof(string)])!;
        assembly.SetCustomAttribute(new CustomAttributeBuilder(ignoreChecks, [typeof(Il).Assembly.GetName().Name!]));
        return assembly.DefineDynamicModule(name);
    }

    /// <summary>Method attributes for generated wasm functions: skip tier-0, the code is hot by construction.</summary>
    public const MethodImplAttributes FunctionImpl = MethodImplAttributes.IL | MethodImplAttributes.Managed | MethodImplAttributes.AggressiveOptimization;
}
