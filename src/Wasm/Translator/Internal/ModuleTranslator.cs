using System.Reflection;
using System.Reflection.Emit;

namespace Xmbl.Cluster.Wasm;

/// <summary>The product of translation: a generated static class with one method per defined function.</summary>
internal sealed class ModuleCode
{
    public ModuleCode(Type type, nint[] functionPointers, int[] typeIds)
    {
        Type = type;
        FunctionPointers = functionPointers;
        TypeIds = typeIds;
    }

    /// <summary>The generated class (keeps the collectible assembly alive).</summary>
    public Type Type { get; }

    /// <summary>Entry point of each defined function (index = defined-function index).</summary>
    public nint[] FunctionPointers { get; }

    /// <summary>Canonical signature id of each type-section entry.</summary>
    public int[] TypeIds { get; }
}

/// <summary>
/// Translates a validated module into a collectible dynamic assembly with one static class; each defined function
/// becomes <c>static R f{i}(params..., InstanceContext ctx)</c>. Direct calls are IL <c>call</c>s between these
/// methods; imported and indirect calls go through <c>calli</c> on <see cref="Function.Code"/>.
/// </summary>
internal sealed class ModuleTranslator
{
    private static int _assemblyCounter;

    public ModuleTranslator(WasmModule module)
    {
        Module = module;
        TypeIds = module.Types.Select(FuncTypeRegistry.GetId).ToArray();
    }

    public WasmModule Module { get; }

    public int[] TypeIds { get; }

    public MethodBuilder[] Methods { get; private set; } = [];

    public ModuleCode Translate(string name, bool fuel, bool canonicalizeNaNs)
    {
        var moduleBuilder = Il.DefineAssembly(
            "Xmbl.Cluster.Wasm.Compiled." + name + "." + Interlocked.Increment(ref _assemblyCounter).ToString(System.Globalization.CultureInfo.InvariantCulture),
            collectible: true);
        var typeBuilder = moduleBuilder.DefineType("WasmModule", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract);
        var bodies = Module.Functions;
        Methods = new MethodBuilder[bodies.Length];
        for (var i = 0; i < bodies.Length; i++)
        {
            var type = Module.Types[bodies[i].TypeIndex];
            var method = typeBuilder.DefineMethod(
                "f" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MethodAttributes.Public | MethodAttributes.Static,
                Il.ReturnType(type),
                Il.ParameterTypes(type));
            method.SetImplementationFlags(Il.FunctionImpl);
            Methods[i] = method;
        }

        var tokens = new TokenCache(moduleBuilder);
        for (var i = 0; i < bodies.Length; i++)
        {
            var il = new IlBuffer(Methods[i].GetILGenerator(Math.Max(64, bodies[i].Code.Length * 4)), tokens);
            new FunctionTranslator(this, bodies[i], il, fuel, canonicalizeNaNs).Translate();
        }

        var created = typeBuilder.CreateType();
        var pointers = new nint[bodies.Length];
        foreach (var method in created.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
        {
            var index = int.Parse(method.Name.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            pointers[index] = method.MethodHandle.GetFunctionPointer();
        }

        return new ModuleCode(created, pointers, TypeIds);
    }
}
