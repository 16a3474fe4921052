using System.Text;

namespace Xmbl.Cluster.Testing.Wasm;

/// <summary>
/// Writes WebAssembly binaries byte by byte for tests that need modules no compiler would emit (huge frames, deep
/// nesting, odd imports). Types are deduplicated; function indices count imports first, as in the binary format.
/// </summary>
public sealed class WasmModuleWriter
{
    /// <summary>Value type bytes.</summary>
    public const byte I32 = 0x7F, I64 = 0x7E, F32 = 0x7D, F64 = 0x7C, FuncRef = 0x70, ExternRef = 0x6F;

    private readonly List<byte[]> _types = [];
    private readonly List<byte[]> _imports = [];
    private readonly List<(uint Type, byte[] Body)> _functions = [];
    private readonly List<byte[]> _tables = [];
    private readonly List<byte[]> _memories = [];
    private readonly List<byte[]> _globals = [];
    private readonly List<byte[]> _exports = [];
    private readonly List<byte[]> _elements = [];
    private int _importedFunctions;

    /// <summary>The index of the type (params) → (results), added if new.</summary>
    public uint Type(byte[] parameters, byte[] results)
    {
        byte[] entry = [0x60, .. Leb((uint)parameters.Length), .. parameters, .. Leb((uint)results.Length), .. results];
        var index = _types.FindIndex(t => t.AsSpan().SequenceEqual(entry));
        if (index < 0)
        {
            _types.Add(entry);
            index = _types.Count - 1;
        }

        return (uint)index;
    }

    /// <summary>Imports a function; call before defining functions. Returns its function index.</summary>
    public uint ImportFunction(string module, string name, byte[] parameters, byte[] results)
    {
        if (_functions.Count > 0)
        {
            throw new InvalidOperationException("Import functions before defining any.");
        }

        _imports.Add([.. Name(module), .. Name(name), 0x00, .. Leb(Type(parameters, results))]);
        return (uint)_importedFunctions++;
    }

    /// <summary>Imports a non-function entity: kind 1 table, 2 memory, 3 global, with its raw type bytes.</summary>
    public void Import(string module, string name, byte kind, byte[] type) => _imports.Add([.. Name(module), .. Name(name), kind, .. type]);

    /// <summary>Defines a function. <paramref name="locals"/> are (count, type) runs; <paramref name="code"/> excludes the final end.</summary>
    public uint Function(uint type, IEnumerable<(uint Count, byte Type)> locals, byte[] code)
    {
        var runs = locals.ToList();
        byte[] body = [.. Leb((uint)runs.Count), .. runs.SelectMany(r => (byte[])[.. Leb(r.Count), r.Type]), .. code, 0x0B];
        _functions.Add((type, body));
        return (uint)(_importedFunctions + _functions.Count - 1);
    }

    public WasmModuleWriter Table(uint min, uint? max = null, byte type = FuncRef)
    {
        _tables.Add([type, .. Limits(min, max)]);
        return this;
    }

    public WasmModuleWriter Memory(uint min, uint? max = null)
    {
        _memories.Add(Limits(min, max));
        return this;
    }

    /// <summary>A mutable i32 global initialized to <paramref name="value"/>; returns its index.</summary>
    public uint GlobalI32(int value)
    {
        _globals.Add([I32, 0x01, 0x41, .. SignedLeb(value), 0x0B]);
        return (uint)(_globals.Count - 1);
    }

    /// <summary>Exports an entity: kind 0 function, 1 table, 2 memory, 3 global.</summary>
    public WasmModuleWriter Export(string name, byte kind, uint index)
    {
        _exports.Add([.. Name(name), kind, .. Leb(index)]);
        return this;
    }

    /// <summary>An active element segment for table 0 at <paramref name="offset"/>.</summary>
    public WasmModuleWriter Elements(int offset, params uint[] functions)
    {
        _elements.Add([0x00, 0x41, .. SignedLeb(offset), 0x0B, .. Leb((uint)functions.Length), .. functions.SelectMany(f => Leb(f))]);
        return this;
    }

    public byte[] Build()
    {
        var bytes = new List<byte> { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00 };
        Section(bytes, 1, _types);
        Section(bytes, 2, _imports);
        Section(bytes, 3, _functions.Select(f => Leb(f.Type)).ToList());
        Section(bytes, 4, _tables);
        Section(bytes, 5, _memories);
        Section(bytes, 6, _globals);
        Section(bytes, 7, _exports);
        Section(bytes, 9, _elements);
        Section(bytes, 10, _functions.Select(f => (byte[])[.. Leb((uint)f.Body.Length), .. f.Body]).ToList());
        return [.. bytes];
    }

    public static byte[] Leb(ulong value)
    {
        var result = new List<byte>(10);
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            result.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. result];
    }

    public static byte[] SignedLeb(long value)
    {
        var result = new List<byte>(10);
        while (true)
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            var done = (value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0);
            result.Add(done ? b : (byte)(b | 0x80));
            if (done)
            {
                return [.. result];
            }
        }
    }

    public static byte[] Name(string name)
    {
        var utf8 = Encoding.UTF8.GetBytes(name);
        return [.. Leb((uint)utf8.Length), .. utf8];
    }

    public static byte[] Limits(uint min, uint? max) => max is { } m ? [0x01, .. Leb(min), .. Leb(m)] : [0x00, .. Leb(min)];

    private static void Section(List<byte> bytes, byte id, List<byte[]> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        byte[] content = [.. Leb((uint)items.Count), .. items.SelectMany(i => i)];
        bytes.Add(id);
        bytes.AddRange(Leb((uint)content.Length));
        bytes.AddRange(content);
    }
}
