using Xmbl.Cluster.Testing.Wasm;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

/// <summary>
/// A tiny assembler for engine tests: declare types, imports, functions, memory, tables, globals, exports and
/// segments, write bodies with <see cref="Code"/>, and get a binary module.
/// </summary>
internal sealed class TestModule
{
    private readonly List<(WasmValueType[] Params, WasmValueType[] Results)> _types = [];
    private readonly List<byte[]> _imports = [];
    private readonly List<(int Type, WasmValueType[] Locals, byte[] Body)> _functions = [];
    private readonly List<byte[]> _tables = [];
    private readonly List<byte[]> _memories = [];
    private readonly List<byte[]> _globals = [];
    private readonly List<byte[]> _exports = [];
    private readonly List<byte[]> _elements = [];
    private readonly List<byte[]> _datas = [];
    private int _importedFunctions;
    private int? _start;

    public static readonly WasmValueType[] None = [];

    public int Type(WasmValueType[] parameters, WasmValueType[] results)
    {
        var index = _types.FindIndex(t => t.Params.SequenceEqual(parameters) && t.Results.SequenceEqual(results));
        if (index >= 0)
        {
            return index;
        }

        _types.Add((parameters, results));
        return _types.Count - 1;
    }

    public int ImportFunction(string module, string name, WasmValueType[] parameters, WasmValueType[] results)
    {
        if (_functions.Count > 0)
        {
            throw new InvalidOperationException("Import functions before defining any.");
        }

        var type = Type(parameters, results);
        _imports.Add([.. Name(module), .. Name(name), 0x00, .. Leb((uint)type)]);
        return _importedFunctions++;
    }

    public void ImportMemory(string module, string name, uint min, uint? max = null) =>
        _imports.Add([.. Name(module), .. Name(name), 0x02, .. Limits(min, max)]);

    public void ImportGlobal(string module, string name, WasmValueType type, bool mutable) =>
        _imports.Add([.. Name(module), .. Name(name), 0x03, (byte)type, (byte)(mutable ? 1 : 0)]);

    public int Function(WasmValueType[] parameters, WasmValueType[] results, Code body, params WasmValueType[] locals)
    {
        _functions.Add((Type(parameters, results), locals, body.ToArray()));
        return _importedFunctions + _functions.Count - 1;
    }

    public TestModule Export(string name, int functionIndex) => ExportKind(name, 0x00, (uint)functionIndex);

    public TestModule ExportKind(string name, byte kind, uint index)
    {
        _exports.Add([.. Name(name), kind, .. Leb(index)]);
        return this;
    }

    public TestModule Memory(uint min, uint? max = null)
    {
        _memories.Add(Limits(min, max));
        return this;
    }

    public TestModule Table(uint min, uint? max = null, WasmValueType type = WasmValueType.FuncRef)
    {
        _tables.Add([(byte)type, .. Limits(min, max)]);
        return this;
    }

    public int Global(WasmValueType type, bool mutable, Code init)
    {
        _globals.Add([(byte)type, (byte)(mutable ? 1 : 0), .. init.End().ToArray()]);
        return _globals.Count - 1;
    }

    /// <summary>An active element segment for table 0 at a constant offset, listing function indices.</summary>
    public TestModule Elements(int offset, params int[] functions)
    {
        _elements.Add([0x00, .. new Code().I32Const(offset).End().ToArray(), .. Leb((uint)functions.Length), .. functions.SelectMany(f => Leb((uint)f))]);
        return this;
    }

    /// <summary>An active data segment for memory 0 at a constant offset.</summary>
    public TestModule Data(int offset, byte[] bytes)
    {
        _datas.Add([0x00, .. new Code().I32Const(offset).End().ToArray(), .. Leb((uint)bytes.Length), .. bytes]);
        return this;
    }

    public TestModule Start(int function)
    {
        _start = function;
        return this;
    }

    public byte[] Build()
    {
        var bytes = new List<byte> { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00 };
        Section(bytes, 1, _types.Select(t => (byte[])[0x60, .. Vector(t.Params.Select(p => (byte)p)), .. Vector(t.Results.Select(r => (byte)r))]).ToList());
        Section(bytes, 2, _imports);
        Section(bytes, 3, _functions.Select(f => Leb((uint)f.Type)).ToList());
        Section(bytes, 4, _tables);
        Section(bytes, 5, _memories);
        Section(bytes, 6, _globals);
        Section(bytes, 7, _exports);
        if (_start is { } start)
        {
            bytes.Add(8);
            var content = Leb((uint)start);
            bytes.AddRange(Leb((uint)content.Length));
            bytes.AddRange(content);
        }

        Section(bytes, 9, _elements);
        Section(bytes, 10, _functions.Select(f =>
        {
            byte[] locals = [.. Leb((uint)f.Locals.Length), .. f.Locals.SelectMany(l => (byte[])[1, (byte)l])];
            byte[] body = [.. locals, .. f.Body, 0x0B];
            return (byte[])[.. Leb((uint)body.Length), .. body];
        }).ToList());
        Section(bytes, 11, _datas);
        return [.. bytes];
    }

    // The encodings are shared with the hostile-module writer of Xmbl.Cluster.Testing.
    public static byte[] Leb(ulong value) => WasmModuleWriter.Leb(value);

    public static byte[] SignedLeb(long value) => WasmModuleWriter.SignedLeb(value);

    private static byte[] Name(string name) => WasmModuleWriter.Name(name);

    private static byte[] Limits(uint min, uint? max) => WasmModuleWriter.Limits(min, max);

    private static byte[] Vector(IEnumerable<byte> items)
    {
        var list = items.ToList();
        return [.. Leb((uint)list.Count), .. list];
    }

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

/// <summary>Writes instruction bytes fluently; only what the tests use.</summary>
internal sealed class Code
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    public Code Op(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public Code I32Const(int value) => Op(0x41).Op(TestModule.SignedLeb(value));

    public Code I64Const(long value) => Op(0x42).Op(TestModule.SignedLeb(value));

    public Code F32Const(float value) => Op(0x43).Op(BitConverter.GetBytes(value));

    public Code F64Const(double value) => Op(0x44).Op(BitConverter.GetBytes(value));

    public Code LocalGet(int index) => Op(0x20).Op(TestModule.Leb((uint)index));

    public Code LocalSet(int index) => Op(0x21).Op(TestModule.Leb((uint)index));

    public Code LocalTee(int index) => Op(0x22).Op(TestModule.Leb((uint)index));

    public Code GlobalGet(int index) => Op(0x23).Op(TestModule.Leb((uint)index));

    public Code GlobalSet(int index) => Op(0x24).Op(TestModule.Leb((uint)index));

    public Code Call(int function) => Op(0x10).Op(TestModule.Leb((uint)function));

    public Code CallIndirect(int type, int table = 0) => Op(0x11).Op(TestModule.Leb((uint)type)).Op(TestModule.Leb((uint)table));

    public Code Block(byte blockType = 0x40) => Op(0x02, blockType);

    public Code Loop(byte blockType = 0x40) => Op(0x03, blockType);

    public Code If(byte blockType = 0x40) => Op(0x04, blockType);

    public Code Else() => Op(0x05);

    public Code End() => Op(0x0B);

    public Code Br(int depth) => Op(0x0C).Op(TestModule.Leb((uint)depth));

    public Code BrIf(int depth) => Op(0x0D).Op(TestModule.Leb((uint)depth));

    public Code Return() => Op(0x0F);

    public Code Drop() => Op(0x1A);

    public Code I32Load(uint offset = 0) => Op(0x28, 0x02).Op(TestModule.Leb(offset));

    public Code I32Load8U(uint offset = 0) => Op(0x2D, 0x00).Op(TestModule.Leb(offset));

    public Code I32Store(uint offset = 0) => Op(0x36, 0x02).Op(TestModule.Leb(offset));

    public Code I64Load(uint offset = 0) => Op(0x29, 0x03).Op(TestModule.Leb(offset));

    public Code MemoryGrow() => Op(0x40, 0x00);

    public Code MemorySize() => Op(0x3F, 0x00);

    public Code MemoryFill() => Op(0xFC, 0x0B, 0x00);
}

/// <summary>Opcode bytes for numeric instructions used in tests.</summary>
internal static class Ops
{
    public const byte I32Eqz = 0x45;
    public const byte I32Eq = 0x46;
    public const byte I32LtS = 0x48;
    public const byte I32GtS = 0x4A;
    public const byte I32Add = 0x6A;
    public const byte I32Sub = 0x6B;
    public const byte I32Mul = 0x6C;
    public const byte I32DivS = 0x6D;
    public const byte I32DivU = 0x6E;
    public const byte I32RemS = 0x6F;
    public const byte I32Shl = 0x74;
    public const byte I32ShrU = 0x76;
    public const byte I32Rotl = 0x77;
    public const byte I64Add = 0x7C;
    public const byte I64DivS = 0x7F;
    public const byte F32Div = 0x95;
    public const byte F32Min = 0x96;
    public const byte F32Max = 0x97;
    public const byte F64Add = 0xA0;
    public const byte F64Div = 0xA3;
    public const byte F64Nearest = 0x9E;
    public const byte I32TruncF64S = 0xAA;
    public const byte I32TruncF64U = 0xAB;
    public const byte F32ConvertI64U = 0xB5;
    public const byte I32ReinterpretF32 = 0xBC;
    public const byte I64ReinterpretF64 = 0xBD;
    public const byte I32Extend8S = 0xC0;
    public const byte Unreachable = 0x00;
    public const byte Select = 0x1B;
    public static readonly byte[] I32TruncSatF64S = [0xFC, 0x02];
    public static readonly byte[] I64TruncSatF64U = [0xFC, 0x07];
}
