namespace Xmbl.Cluster.Wasm;

/// <summary>
/// Resolves a module's imports by (module, name) against host functions and exports of other instances, then
/// instantiates it: creates memories, tables and globals, applies element and data segments (in order, trapping
/// on the first out-of-bounds segment with earlier ones left applied, as WebAssembly 2.0 specifies) and runs the
/// start function.
/// </summary>
public sealed class Linker
{
    private readonly Dictionary<(string Module, string Name), object> _definitions = [];

    /// <summary>Creates an empty linker.</summary>
    /// <param name="engine">The engine whose modules this linker instantiates.</param>
    public Linker(WasmEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engine = engine;
    }

    /// <summary>The engine.</summary>
    public WasmEngine Engine { get; }

    /// <summary>Defines a host function; each instantiating store gets its own bound copy.</summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name.</param>
    /// <param name="type">The signature.</param>
    /// <param name="function">The implementation.</param>
    /// <returns>This linker.</returns>
    public Linker Define(string module, string name, FuncType type, HostFunction function)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(function);
        foreach (var t in type.ParameterSpan)
        {
            _ = Il.ClrType(t);
        }

        foreach (var t in type.ResultSpan)
        {
            _ = Il.ClrType(t);
        }

        return Add(module, name, new HostDefinition(type, function));
    }

    /// <summary>Defines a memory import.</summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name.</param>
    /// <param name="memory">The memory.</param>
    /// <returns>This linker.</returns>
    public Linker Define(string module, string name, Memory memory) => Add(module, name, memory);

    /// <summary>Defines a table import.</summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name.</param>
    /// <param name="table">The table.</param>
    /// <returns>This linker.</returns>
    public Linker Define(string module, string name, Table table) => Add(module, name, table);

    /// <summary>Defines a global import.</summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name.</param>
    /// <param name="global">The global.</param>
    /// <returns>This linker.</returns>
    public Linker Define(string module, string name, Global global) => Add(module, name, global);

    /// <summary>Defines a function import from an existing (store-bound) function, e.g. another instance's export.</summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name.</param>
    /// <param name="function">The function.</param>
    /// <returns>This linker.</returns>
    public Linker Define(string module, string name, Function function) => Add(module, name, function);

    /// <summary>Defines every export of <paramref name="instance"/> under <paramref name="moduleName"/> (the spec's <c>register</c>).</summary>
    /// <param name="moduleName">Import module name.</param>
    /// <param name="instance">The instance.</param>
    /// <returns>This linker.</returns>
    public Linker DefineInstance(string moduleName, Instance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        foreach (var export in instance.Exports)
        {
            Add(moduleName, export.Name, instance.GetExport(export.Name)!);
        }

        return this;
    }

    /// <summary>Whether a definition exists for (module, name).</summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name.</param>
    /// <returns>True when defined.</returns>
    public bool IsDefined(string module, string name) => _definitions.ContainsKey((module, name));

    /// <summary>Links and instantiates a module in a store.</summary>
    /// <param name="store">The store.</param>
    /// <param name="module">The compiled module.</param>
    /// <returns>The instance.</returns>
    /// <exception cref="WasmLinkException">An import is missing ("unknown import") or has the wrong type ("incompatible import type").</exception>
    /// <exception cref="WasmTrapException">A segment is out of bounds, a limit is exceeded, or the start function trapped.</exception>
    public Instance Instantiate(Store store, CompiledModule module)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(module);
        if (module.Engine != store.Engine)
        {
            throw new ArgumentException("The module was compiled by a different engine than the store's.", nameof(module));
        }

        var m = module.Module;
        var code = module.Code;
        var context = new InstanceContext(store, code) { Metered = module.FuelMetering };
        var exports = new Dictionary<string, object>(StringComparer.Ordinal);
        var instance = new Instance(module, context, exports);
        context.Instance = instance;

        var functions = new Function[m.FunctionTypeIndices.Length];
        var tables = new Table[m.Tables.Length];
        var memories = new Memory[m.Memories.Length];
        var globals = new Global[m.GlobalTypes.Length];
        ResolveImports(store, m, instance, functions, tables, memories, globals);

        // Function objects of defined functions are created on first use (InstanceContext.GetFunction), so
        // instantiating a module with thousands of functions does not allocate thousands of objects.
        var limits = store.Limits;
        for (var i = m.ImportedTableCount; i < tables.Length; i++)
        {
            var type = m.Tables[i];
            if (type.Limits.Min > (uint)limits.MaxTableElements)
            {
                throw new WasmTrapException(TrapKind.TableLimitExceeded, $"table of {type.Limits.Min} elements exceeds the store's limit of {limits.MaxTableElements}");
            }

            tables[i] = new Table(type.ElementType, (int)type.Limits.Min, ClampMax(type.Limits.Max)) { GrowLimit = limits.MaxTableElements };
        }

        for (var i = 0; i < m.ImportedTableCount; i++)
        {
            tables[i].GrowLimit = Math.Min(tables[i].GrowLimit, limits.MaxTableElements);
        }

        for (var i = m.ImportedMemoryCount; i < memories.Length; i++)
        {
            var type = m.Memories[i];
            if (type.Limits.Min > (uint)limits.MaxMemoryPages)
            {
                throw new WasmTrapException(TrapKind.MemoryLimitExceeded, $"memory of {type.Limits.Min} pages exceeds the store's limit of {limits.MaxMemoryPages}");
            }

            memories[i] = new Memory((int)type.Limits.Min, ClampMax(type.Limits.Max)) { GrowLimit = limits.MaxMemoryPages };
            store.Own(memories[i]);
        }

        for (var i = 0; i < m.ImportedMemoryCount; i++)
        {
            memories[i].GrowLimit = Math.Min(memories[i].GrowLimit, limits.MaxMemoryPages);
        }

        context.Functions = functions;
        context.Tables = tables;
        context.Memories = memories;
        context.Memory0 = memories.Length > 0 ? memories[0] : null;
        context.Globals = globals;

        for (var i = 0; i < m.Globals.Length; i++)
        {
            var index = m.ImportedGlobalCount + i;
            var type = m.Globals[i].Type;
            globals[index] = new Global(type.ValueType, type.Mutable, Evaluate(m.Globals[i].Init, type.ValueType, context));
        }

        var elementSegments = new object?[m.Elements.Length][];
        for (var i = 0; i < m.Elements.Length; i++)
        {
            var segment = m.Elements[i];
            var items = new object?[segment.Items.Length];
            for (var j = 0; j < items.Length; j++)
            {
                items[j] = Evaluate(segment.Items[j], segment.ElementType, context).Ref;
            }

            elementSegments[i] = items;
        }

        var dataSegments = new ReadOnlyMemory<byte>[m.Datas.Length];
        for (var i = 0; i < m.Datas.Length; i++)
        {
            dataSegments[i] = m.Datas[i].Data;
        }

        context.ElementSegments = elementSegments;
        context.DataSegments = dataSegments;

        foreach (var export in m.Exports)
        {
            exports[export.Name] = export.Kind switch
            {
                ExternalKind.Function => context.GetFunction((int)export.Index),
                ExternalKind.Table => tables[export.Index],
                ExternalKind.Memory => memories[export.Index],
                _ => globals[export.Index],
            };
        }

        store.EnsureResultCapacity(module.MaxCallValues);

        for (var i = 0; i < m.Elements.Length; i++)
        {
            var segment = m.Elements[i];
            if (segment.Mode == SegmentMode.Active)
            {
                var offset = (uint)Evaluate(segment.Offset, WasmValueType.I32, context).I32;
                var items = elementSegments[i];
                var table = tables[segment.TableIndex];
                if ((ulong)offset + (ulong)items.Length > (ulong)table.Elements.Length)
                {
                    throw new WasmTrapException(TrapKind.TableOutOfBounds);
                }

                Array.Copy(items, 0, table.Elements, offset, items.Length);
            }

            if (segment.Mode != SegmentMode.Passive)
            {
                elementSegments[i] = [];
            }
        }

        for (var i = 0; i < m.Datas.Length; i++)
        {
            var segment = m.Datas[i];
            if (segment.Mode != SegmentMode.Active)
            {
                continue;
            }

            var offset = (uint)Evaluate(segment.Offset, WasmValueType.I32, context).I32;
            var memory = memories[segment.MemoryIndex];
            var data = segment.Data.Span;
            if ((ulong)offset + (ulong)data.Length > memory.ByteLength)
            {
                throw new WasmTrapException(TrapKind.MemoryOutOfBounds);
            }

            data.CopyTo(memory.GetSpan(offset, data.Length));
            dataSegments[i] = ReadOnlyMemory<byte>.Empty;
        }

        if (m.Start is { } start)
        {
            context.GetFunction((int)start).Invoke(ReadOnlySpan<WasmValue>.Empty, Span<WasmValue>.Empty);
        }

        return instance;
    }

    private static int? ClampMax(uint? max) => max is { } m ? (int)Math.Min(m, int.MaxValue) : null;

    private static WasmValue Evaluate(ConstExpr expr, WasmValueType type, InstanceContext context) => expr.Kind switch
    {
        ConstExprKind.I32Const => WasmValue.FromI32((int)expr.Value),
        ConstExprKind.I64Const => WasmValue.FromI64((long)expr.Value),
        ConstExprKind.F32Const => WasmValue.FromF32Bits((uint)expr.Value),
        ConstExprKind.F64Const => WasmValue.FromF64Bits(expr.Value),
        ConstExprKind.RefNull => WasmValue.NullRef(expr.RefType),
        ConstExprKind.RefFunc => WasmValue.FromRef(WasmValueType.FuncRef, context.GetFunction((int)expr.Index)),
        ConstExprKind.GlobalGet => context.Globals[expr.Index].Value,
        _ => throw new WasmInvalidException($"constant expression required (expected {type.ToWatName()})"),
    };

    private void ResolveImports(Store store, WasmModule m, Instance instance, Function[] functions, Table[] tables, Memory[] memories, Global[] globals)
    {
        foreach (var import in m.Imports)
        {
            if (!_definitions.TryGetValue((import.Module, import.Name), out var definition))
            {
                throw new WasmLinkException($"unknown import: {import.Module}::{import.Name}");
            }

            switch (import.Kind)
            {
                case ExternalKind.Function:
                    {
                        var expected = m.Types[import.FunctionTypeIndex];
                        functions[import.IndexInKind] = definition switch
                        {
                            HostDefinition host when host.Type.Equals(expected) => HostCalls.Bind(store, host.Type, host.Function, instance),
                            Function f when f.Type.Equals(expected) && f.Store == store => f,
                            Function f when f.Store != store => throw new WasmLinkException($"incompatible import type: {import.Module}::{import.Name} belongs to another store"),
                            _ => throw Incompatible(import, definition),
                        };
                        break;
                    }

                case ExternalKind.Table:
                    {
                        if (definition is not Table table || table.ElementType != import.Table.ElementType
                            || !LimitsMatch(table.Size, table.Maximum, import.Table.Limits))
                        {
                            throw Incompatible(import, definition);
                        }

                        tables[import.IndexInKind] = table;
                        break;
                    }

                case ExternalKind.Memory:
                    {
                        if (definition is not Memory memory || !LimitsMatch(memory.Pages, memory.Maximum, import.Memory.Limits))
                        {
                            throw Incompatible(import, definition);
                        }

                        memories[import.IndexInKind] = memory;
                        break;
                    }

                default:
                    {
                        if (definition is not Global global || global.Type != import.Global.ValueType || global.Mutable != import.Global.Mutable)
                        {
                            throw Incompatible(import, definition);
                        }

                        globals[import.IndexInKind] = global;
                        break;
                    }
            }
        }
    }

    private static bool LimitsMatch(long size, int? max, Limits expected)
    {
        if (size < expected.Min)
        {
            return false;
        }

        if (expected.Max is { } expectedMax)
        {
            return max is { } actualMax && (uint)actualMax <= expectedMax;
        }

        return true;
    }

    private static WasmLinkException Incompatible(WasmImport import, object definition) =>
        new($"incompatible import type: {import.Module}::{import.Name} ({import.Kind.ToString().ToLowerInvariant()} expected, got {Describe(definition)})");

    private static string Describe(object definition) => definition switch
    {
        HostDefinition h => "host function " + h.Type,
        Function f => "function " + f.Type,
        Table t => $"table {t.ElementType.ToWatName()} size {t.Size} max {t.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}",
        Memory mem => $"memory of {mem.Pages} pages max {mem.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}",
        Global g => $"global {(g.Mutable ? "mut " : string.Empty)}{g.Type.ToWatName()}",
        _ => definition.GetType().Name,
    };

    private Linker Add(string module, string name, object definition)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(definition);
        _definitions[(module, name)] = definition;
        return this;
    }

    private sealed record HostDefinition(FuncType Type, HostFunction Function);
}
