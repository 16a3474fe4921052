using System.Collections.Concurrent;
using System.Reflection.Emit;

namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Per-signature entry stubs for calls from the host: each reads the arguments from the store's staging buffers,
/// calls the compiled code through its pointer (<c>calli</c>), and writes a single result back (multi-value
/// functions write their results themselves).
/// </summary>
internal static class Invokers
{
    private static readonly ConcurrentDictionary<FuncType, Action<nint, InstanceContext, Store>> Cache = new();

    public static Action<nint, InstanceContext, Store> Get(FuncType type) => Cache.GetOrAdd(type, Create);

    private static Action<nint, InstanceContext, Store> Create(FuncType type)
    {
        var method = new DynamicMethod(
            "wasm_invoke",
            typeof(void),
            [typeof(nint), typeof(InstanceContext), typeof(Store)],
            typeof(Invokers).Module,
            skipVisibility: true);
        var il = method.GetILGenerator();
        var parameters = type.ParameterSpan;
        for (var i = 0; i < parameters.Length; i++)
        {
            Il.EmitLoadSlot(il, static g => g.Emit(OpCodes.Ldarg_2), i, parameters[i]);
        }

        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Ldfld, Il.StoreDepthLeft);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldarg_0);
        Il.EmitCalli(il, type);
        if (type.Results.Count == 1)
        {
            var result = il.DeclareLocal(Il.ClrType(type.Results[0]));
            il.Emit(OpCodes.Stloc, result);
            Il.EmitStoreSlot(il, static g => g.Emit(OpCodes.Ldarg_2), 0, type.Results[0], result);
        }

        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<nint, InstanceContext, Store>>();
    }
}
