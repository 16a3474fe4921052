using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Calls from wasm into host functions. Each signature gets a trampoline with the compiled-code calling convention
/// (params..., InstanceContext) in a permanent dynamic assembly, so a host function is called exactly like a wasm
/// function (<c>calli</c> through <see cref="Function.Code"/>), also from tables.
/// </summary>
internal static class HostCalls
{
    private static readonly ConcurrentDictionary<FuncType, nint> Trampolines = new();
    private static readonly Lock Gate = new();
    private static readonly MethodInfo RentMethod = Il.Method(typeof(HostCalls), nameof(Rent));
    private static readonly MethodInfo CallMethod = Il.Method(typeof(HostCalls), nameof(Call));
    private static readonly MethodInfo ReleaseMethod = Il.Method(typeof(HostCalls), nameof(Release));
    private static readonly MethodInfo ToValueMethod = Il.Method(typeof(HostCalls), nameof(ToValue));
    private static readonly MethodInfo RefToValueMethod = Il.Method(typeof(HostCalls), nameof(RefToValue));
    private static readonly MethodInfo BitsOfMethod = Il.Method(typeof(HostCalls), nameof(BitsOf));
    private static readonly MethodInfo RefOfMethod = Il.Method(typeof(HostCalls), nameof(RefOf));
    private static ModuleBuilder? _module;
    private static int _count;

    /// <summary>Creates the store-bound function for a host definition; <paramref name="caller"/> is the importing instance.</summary>
    public static Function Bind(Store store, FuncType type, HostFunction host, Instance? caller)
    {
        var context = new InstanceContext(store) { Instance = caller };
        var function = new Function(type, GetTrampoline(type), context, host);
        context.HostTarget = function;
        context.HostCaller = new Caller(store, caller);
        return function;
    }

    /// <summary>Runs a host function on behalf of <see cref="Function.Invoke(ReadOnlySpan{WasmValue}, Span{WasmValue})"/>.</summary>
    public static void InvokeHost(Function function, ReadOnlySpan<WasmValue> args, Span<WasmValue> results)
    {
        var context = function.Context;
        var count = function.Type.Results.Count;
        try
        {
            function.Host!(context.HostCaller!, args, results[..count]);
        }
        catch (Exception ex) when (ex is not WasmException)
        {
            throw new WasmTrapException(TrapKind.HostError, "host function failed: " + ex.Message, ex);
        }

        CheckResults(function.Type, results[..count]);
    }

    public static WasmValue[] Rent(int size, InstanceContext ctx) => ctx.Store.RentHostFrame(size);

    public static void Release(WasmValue[] frame, InstanceContext ctx) => ctx.Store.ReturnHostFrame(frame);

    public static WasmValue ToValue(ulong bits, int type) => WasmValue.FromBits((WasmValueType)type, bits);

    public static WasmValue RefToValue(object? value, int type) => WasmValue.FromRef((WasmValueType)type, value);

    public static ulong BitsOf(WasmValue[] frame, int index) => frame[index].Bits;

    public static object? RefOf(WasmValue[] frame, int index) => frame[index].Ref;

    /// <summary>Called by trampolines: frame[0..params) holds the arguments, frame[params..) receives the results.</summary>
    public static void Call(WasmValue[] frame, InstanceContext ctx)
    {
        var function = ctx.HostTarget!;
        var type = function.Type;
        var parameterCount = type.Parameters.Count;
        var results = frame.AsSpan(parameterCount, type.Results.Count);
        results.Clear();
        try
        {
            function.Host!(ctx.HostCaller!, frame.AsSpan(0, parameterCount), results);
        }
        catch (Exception ex) when (ex is not WasmException and not InsufficientExecutionStackException)
        {
            throw new WasmTrapException(TrapKind.HostError, "host function failed: " + ex.Message, ex);
        }

        CheckResults(type, results);
    }

    private static void CheckResults(FuncType type, ReadOnlySpan<WasmValue> results)
    {
        var expected = type.ResultSpan;
        for (var i = 0; i < expected.Length; i++)
        {
            if (results[i].Type != expected[i])
            {
                throw new WasmTrapException(
                    TrapKind.HostError,
                    $"host function returned {results[i].Type.ToWatName()} for result {i}, expected {expected[i].ToWatName()}");
            }
        }
    }

    private static nint GetTrampoline(FuncType type)
    {
        if (Trampolines.TryGetValue(type, out var code))
        {
            return code;
        }

        lock (Gate)
        {
            if (Trampolines.TryGetValue(type, out code))
            {
                return code;
            }

            _module ??= Il.DefineAssembly("Xmbl.Cluster.Wasm.HostTrampolines", collectible: false);
            var builder = _module.DefineType("Trampoline" + _count++, TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract);
            var method = builder.DefineMethod("Call", MethodAttributes.Public | MethodAttributes.Static, Il.ReturnType(type), Il.ParameterTypes(type));
            Emit(method.GetILGenerator(), type);
            var created = builder.CreateType();
            code = created.GetMethod("Call")!.MethodHandle.GetFunctionPointer();
            Trampolines[type] = code;
            return code;
        }
    }

    private static void Emit(ILGenerator il, FuncType type)
    {
        var parameters = type.ParameterSpan;
        var results = type.ResultSpan;
        var depthArg = (short)parameters.Length;
        var ctxArg = (short)(parameters.Length + 1);
        var frame = il.DeclareLocal(typeof(WasmValue[]));

        // Publish the remaining depth so calls back into wasm from the host continue counting from here.
        il.Emit(OpCodes.Ldarg, ctxArg);
        il.Emit(OpCodes.Ldfld, Il.CtxStore);
        il.Emit(OpCodes.Ldarg, depthArg);
        il.Emit(OpCodes.Stfld, Il.StoreDepthLeft);
        Il.EmitInt(il, parameters.Length + results.Length);
        il.Emit(OpCodes.Ldarg, ctxArg);
        il.Emit(OpCodes.Call, RentMethod);
        il.Emit(OpCodes.Stloc, frame);
        for (var i = 0; i < parameters.Length; i++)
        {
            il.Emit(OpCodes.Ldloc, frame);
            Il.EmitInt(il, i);
            il.Emit(OpCodes.Ldarg, (short)i);
            if (parameters[i].IsReference())
            {
                Il.EmitInt(il, (int)parameters[i]);
                il.Emit(OpCodes.Call, RefToValueMethod);
            }
            else
            {
                Il.EmitToBits(il, parameters[i]);
                Il.EmitInt(il, (int)parameters[i]);
                il.Emit(OpCodes.Call, ToValueMethod);
            }

            il.Emit(OpCodes.Stelem, typeof(WasmValue));
        }

        il.Emit(OpCodes.Ldloc, frame);
        il.Emit(OpCodes.Ldarg, ctxArg);
        il.Emit(OpCodes.Call, CallMethod);

        if (results.Length == 1)
        {
            LoadResult(il, frame, parameters.Length, results[0]);
        }
        else if (results.Length > 1)
        {
            // Multi-value convention: results go to the store's result buffers.
            il.Emit(OpCodes.Ldarg, ctxArg);
            il.Emit(OpCodes.Ldfld, Il.CtxStore);
            il.Emit(OpCodes.Ldc_I4, results.Length);
            il.Emit(OpCodes.Call, Il.Method(typeof(Store), nameof(Store.EnsureResultCapacity)));
            for (var i = 0; i < results.Length; i++)
            {
                var value = il.DeclareLocal(Il.ClrType(results[i]));
                LoadResult(il, frame, parameters.Length + i, results[i]);
                il.Emit(OpCodes.Stloc, value);
                Il.EmitStoreSlot(il, g => { g.Emit(OpCodes.Ldarg, ctxArg); g.Emit(OpCodes.Ldfld, Il.CtxStore); }, i, results[i], value);
            }
        }

        il.Emit(OpCodes.Ldloc, frame);
        il.Emit(OpCodes.Ldarg, ctxArg);
        il.Emit(OpCodes.Call, ReleaseMethod);
        il.Emit(OpCodes.Ret);
    }

    private static void LoadResult(ILGenerator il, LocalBuilder frame, int index, WasmValueType type)
    {
        il.Emit(OpCodes.Ldloc, frame);
        Il.EmitInt(il, index);
        if (type.IsReference())
        {
            il.Emit(OpCodes.Call, RefOfMethod);
        }
        else
        {
            il.Emit(OpCodes.Call, BitsOfMethod);
            Il.EmitFromBits(il, type);
        }
    }
}
