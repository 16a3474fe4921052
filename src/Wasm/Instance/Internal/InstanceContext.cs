namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Per-instance state passed as the last argument of every compiled function, so one compiled module serves many
/// instances. Generated IL reads these fields directly (their names are part of the translator's contract). A host
/// function bound into an instance gets its own context whose <see cref="HostTarget"/> is set.
/// </summary>
internal sealed unsafe class InstanceContext
{
    public InstanceContext(Store store)
    {
        Store = store;
    }

    /// <summary>The context of an instance of <paramref name="code"/>.</summary>
    public InstanceContext(Store store, ModuleCode code)
    {
        Store = store;
        Code = code;
        FunctionEntries = code.Entries;
    }

    public Store Store;

    /// <summary>Whether the code was compiled with fuel metering (bulk operations then charge per byte/element).</summary>
    public bool Metered;
    public Memory? Memory0;
    public Memory[] Memories = [];
    public Global[] Globals = [];
    public Table[] Tables = [];
    /// <summary>
    /// The function index space: imports are set at instantiation, defined functions are created on first use
    /// (<see cref="GetFunction"/>); generated code reads imported entries directly and defined ones through
    /// <see cref="RuntimeOps.FunctionRef"/>.
    /// </summary>
    public Function?[] Functions = [];

    /// <summary>The module's code (null for host-function contexts).</summary>
    public ModuleCode? Code;

    /// <summary><see cref="ModuleCode.Entries"/> of <see cref="Code"/>: code pointer per defined function, 0 until translated.</summary>
    public nint* FunctionEntries;

    /// <summary>Resolved element segments (Function or host objects); a dropped segment is empty.</summary>
    public object?[][] ElementSegments = [];

    /// <summary>Data segments; a dropped segment is empty.</summary>
    public ReadOnlyMemory<byte>[] DataSegments = [];

    /// <summary>The <see cref="Function"/> for function index <paramref name="index"/>, created on first use for a defined function.</summary>
    public Function GetFunction(int index) => Functions[index] ?? CreateFunction(index);

    private Function CreateFunction(int index)
    {
        var code = Code!;
        var module = code.Module;
        var typeIndex = module.FunctionTypeIndices[index];
        var definedIndex = index - module.ImportedFunctionCount;
        var function = new Function(module.Types[typeIndex], code.TypeIds[typeIndex], code.PeekEntry(definedIndex), this, null, definedIndex);

        // One object per index even if two threads race here (references are compared by identity).
        return Interlocked.CompareExchange(ref Functions[index], function, null) ?? function;
    }

    /// <summary>The instance (for host functions: the importing instance, exposed as <see cref="Caller.Instance"/>).</summary>
    public Instance? Instance;

    /// <summary>For host-function contexts: the function whose delegate the trampoline calls.</summary>
    public Function? HostTarget;

    /// <summary>For host-function contexts: the reusable caller view.</summary>
    public Caller? HostCaller;
}
