namespace Xmbl.Cluster.Wasm;

/// <summary>An instantiated module: its exports bound to a store.</summary>
public sealed class Instance
{
    private readonly Dictionary<string, object> _exports;

    internal Instance(CompiledModule module, InstanceContext context, Dictionary<string, object> exports)
    {
        Module = module;
        Context = context;
        _exports = exports;
    }

    /// <summary>The compiled module this instance was created from.</summary>
    public CompiledModule Module { get; }

    /// <summary>The store.</summary>
    public Store Store => Context.Store;

    /// <summary>The module's exports.</summary>
    public IReadOnlyList<ExportInfo> Exports => Module.Exports;

    internal InstanceContext Context { get; }

    /// <summary>An exported function.</summary>
    /// <param name="name">Export name.</param>
    /// <returns>The function, or null when there is no function export of that name.</returns>
    public Function? GetFunction(string name) => GetExport(name) as Function;

    /// <summary>An exported memory.</summary>
    /// <param name="name">Export name.</param>
    /// <returns>The memory, or null.</returns>
    public Memory? GetMemory(string name) => GetExport(name) as Memory;

    /// <summary>An exported global.</summary>
    /// <param name="name">Export name.</param>
    /// <returns>The global, or null.</returns>
    public Global? GetGlobal(string name) => GetExport(name) as Global;

    /// <summary>An exported table.</summary>
    /// <param name="name">Export name.</param>
    /// <returns>The table, or null.</returns>
    public Table? GetTable(string name) => GetExport(name) as Table;

    /// <summary>Any export: a <see cref="Function"/>, <see cref="Memory"/>, <see cref="Global"/> or <see cref="Table"/>.</summary>
    /// <param name="name">Export name.</param>
    /// <returns>The exported object, or null.</returns>
    public object? GetExport(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _exports.GetValueOrDefault(name);
    }
}
