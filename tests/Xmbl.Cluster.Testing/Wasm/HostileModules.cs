using static Xmbl.Cluster.Testing.Wasm.WasmModuleWriter;

namespace Xmbl.Cluster.Testing.Wasm;

/// <summary>One generated module: what it tries, and its bytes (a WASI command: it exports <c>_start</c>).</summary>
public sealed record HostileModule(string Description, byte[] Wasm);

/// <summary>
/// Generates hostile but mostly valid modules from a seed, for the fuzz tests of the engine and of a real silo: huge
/// frames recursing (self, mutual, through a table), deep block nesting, deep operand stacks, big tables and
/// memories, odd and unknown imports, endless loops, and byte-mutated modules. Same seed, same modules.
/// </summary>
public sealed class HostileModules(int seed)
{
    /// <summary>The validator's limits (WasmModuleLimits): locals per function, nesting depth.</summary>
    public const int MaxLocals = 50_000;
    public const int MaxControlDepth = 10_000;

    private static readonly byte[] ValueTypes = [I32, I64, F32, F64, FuncRef, ExternRef];

    private readonly Random _random = new(seed);

    public int Seed { get; } = seed;

    /// <summary>The next module.</summary>
    public HostileModule Next() => _random.Next(10) switch
    {
        0 => StackBomb(Size(MaxLocals), Pick(ValueTypes), (RecursionShape)_random.Next(3)),
        1 => StackBomb(_random.Next(MaxLocals - 1_000, MaxLocals + 1), Pick(ValueTypes), (RecursionShape)_random.Next(3)),
        2 => DeepNesting(_random.Next(2) == 0 ? Size(MaxControlDepth) : MaxControlDepth + _random.Next(-2, 3), _random.Next(3)),
        3 => DeepOperandStack(Size(3_000), Pick([I32, I64, F32, F64])),
        4 => BigTable((uint)Size(12_000_000), _random.Next(-5, 200_000)),
        5 => BigMemory((uint)_random.Next(0, 300), (uint)Size(20_000), _random.Next(0, 2_048)),
        6 => OddImports(),
        7 => EndlessLoop(),
        8 => Mutated(),
        _ => LargeFrameOnce(Size(MaxLocals)),
    };

    /// <summary>The issue 10 job: f(x: i64) with <paramref name="locals"/> locals of <paramref name="type"/>
    /// recursing forever (<c>local.get N; local.get 0; i64.add; i64.const 1; i64.add; call 0</c> for i64), from _start.</summary>
    public static HostileModule StackBomb(int locals, byte type, RecursionShape shape)
    {
        var w = new WasmModuleWriter();
        var fType = w.Type([I64], []);
        var startType = w.Type([], []);
        var last = Leb((uint)locals);
        byte[] value = type == I64
            ? [0x20, .. last, 0x20, 0x00, 0x7C]
            : [0x20, .. last, 0x1A, 0x20, 0x00];
        byte[] next = [.. value, 0x42, 0x01, 0x7C];
        uint start;
        switch (shape)
        {
            case RecursionShape.Self:
                w.Function(fType, [((uint)locals, type)], [.. next, 0x10, 0x00]);
                start = w.Function(startType, [], [0x42, 0x00, 0x10, 0x00]);
                break;
            case RecursionShape.Mutual:
                w.Function(fType, [((uint)locals, type)], [.. next, 0x10, 0x01]);
                w.Function(fType, [((uint)locals, type)], [.. next, 0x10, 0x00]);
                start = w.Function(startType, [], [0x42, 0x00, 0x10, 0x00]);
                break;
            default:
                w.Function(fType, [((uint)locals, type)], [.. next, 0x41, 0x00, 0x11, .. Leb(fType), 0x00]);
                start = w.Function(startType, [], [0x42, 0x00, 0x10, 0x00]);
                w.Table(1).Elements(0, 0);
                break;
        }

        w.Export("_start", 0, start);
        return new($"{shape} recursion, {locals} {Name(type)} locals", w.Build());
    }

    /// <summary>A function with <paramref name="locals"/> locals of mixed types, called once.</summary>
    public static HostileModule LargeFrameOnce(int locals)
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        var runs = ValueTypes.Select(type => ((uint)(locals / ValueTypes.Length), type)).ToList();
        var f = w.Function(t, runs, [0x20, .. Leb((uint)(locals / ValueTypes.Length) - 1), 0x1A]);
        w.Export("_start", 0, w.Function(t, [], [0x10, .. Leb(f)]));
        return new($"one call of a frame of {locals} mixed locals", w.Build());
    }

    /// <summary><paramref name="depth"/> nested blocks (0), loops (1) or ifs (2) with a branch out of the innermost.</summary>
    public static HostileModule DeepNesting(int depth, int kind)
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        // Loops sit in a block the branch leaves: a branch back to an outer loop would re-enter every inner loop
        // header per iteration, and loop headers cost no fuel (only the wall clock would end it).
        var code = new List<byte>(depth * 4);
        var labels = depth;
        if (kind == 1)
        {
            code.AddRange([0x02, 0x40]);
            labels++;
        }

        for (var i = 0; i < depth; i++)
        {
            if (kind == 2)
            {
                code.AddRange([0x41, 0x01, 0x04, 0x40]);
            }
            else
            {
                code.AddRange([kind == 0 ? (byte)0x02 : (byte)0x03, 0x40]);
            }
        }

        code.AddRange([0x41, 0x01, 0x0D, .. Leb((uint)Math.Max(0, labels - 1))]);
        for (var i = 0; i < labels; i++)
        {
            code.Add(0x0B);
        }

        w.Export("_start", 0, w.Function(t, [], [.. code]));
        return new($"{depth} nested {(kind == 0 ? "blocks" : kind == 1 ? "loops" : "ifs")}", w.Build());
    }

    /// <summary>Pushes <paramref name="height"/> values (with arithmetic whose NaNs need canonicalizing) and a call
    /// on top, then drops them: the JIT spills the evaluation stack at every branch.</summary>
    public static HostileModule DeepOperandStack(int height, byte type)
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        var leaf = w.Function(t, [], []);
        byte[] constant = type switch
        {
            I32 => [0x41, 0x07],
            I64 => [0x42, 0x07],
            F32 => [0x43, 0x00, 0x00, 0xC0, 0x7F],
            _ => [0x44, 0, 0, 0, 0, 0, 0, 0xF8, 0x7F],
        };
        byte add = type switch { I32 => 0x6A, I64 => 0x7C, F32 => 0x92, _ => 0xA0 };
        var code = new List<byte>();
        for (var i = 0; i < height; i++)
        {
            code.AddRange(constant);
            code.AddRange(constant);
            code.Add(add);
        }

        code.AddRange([0x10, .. Leb(leaf)]);
        for (var i = 0; i < height; i++)
        {
            code.Add(0x1A);
        }

        w.Export("_start", 0, w.Function(t, [], [.. code]));
        return new($"operand stack of {height} {Name(type)}", w.Build());
    }

    /// <summary>A table of <paramref name="min"/> elements and a call_indirect through index <paramref name="index"/>.</summary>
    public static HostileModule BigTable(uint min, int index)
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        var leaf = w.Function(t, [], []);
        w.Table(min).Elements(0, leaf);
        w.Export("_start", 0, w.Function(t, [], [0x41, .. SignedLeb(index), 0x11, .. Leb(t), 0x00]));
        return new($"table of {min}, call_indirect {index}", w.Build());
    }

    /// <summary>Memory of <paramref name="min"/> pages grown by <paramref name="grow"/>, then <paramref name="touch"/>
    /// pages written one byte each (trapping past the end when the grow failed).</summary>
    public static HostileModule BigMemory(uint min, uint grow, int touch)
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        w.Memory(min);
        // i = 0; loop { if i >= touch break; store8 [i * 65536] = 1; i++ }
        byte[] code =
        [
            0x41, .. SignedLeb(grow), 0x40, 0x00, 0x1A,
            0x02, 0x40, 0x03, 0x40,
            0x20, 0x00, 0x41, .. SignedLeb(touch), 0x4E, 0x0D, 0x01,
            0x20, 0x00, 0x41, 0x10, 0x74, 0x41, 0x01, 0x3A, 0x00, 0x00,
            0x20, 0x00, 0x41, 0x01, 0x6A, 0x21, 0x00, 0x0C, 0x00,
            0x0B, 0x0B,
        ];
        w.Export("_start", 0, w.Function(t, [(1, I32)], code));
        w.Export("memory", 2, 0);
        return new($"memory of {min} pages, grow {grow}, touch {touch}", w.Build());
    }

    /// <summary>Imports that may not exist or have the wrong signature, called from _start.</summary>
    public HostileModule OddImports()
    {
        var w = new WasmModuleWriter();
        string[] modules = ["wasi_snapshot_preview1", "xmbl", "env", "", "wasi_snapshot_preview1\0", "\u00ff\u00fe"];
        string[] names = ["fd_write", "proc_exit", "run_module", "random_get", "clock_time_get", "args_get", "sock_accept", "memory", "", "x"];
        var count = _random.Next(1, 6);
        var calls = new List<byte>();
        var description = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var module = Pick(modules);
            var name = Pick(names);
            var parameters = Enumerable.Range(0, _random.Next(0, 7)).Select(_ => Pick([I32, I64, F32, F64])).ToArray();
            var results = _random.Next(3) == 0 ? [] : new[] { Pick([I32, I64]) };
            var f = w.ImportFunction(module, name, parameters, results);
            description.Add($"{module}.{name}/{parameters.Length}");
            foreach (var p in parameters)
            {
                calls.AddRange(p switch
                {
                    I32 => [0x41, .. SignedLeb(_random.Next(-5, 70_000))],
                    I64 => [0x42, .. SignedLeb(_random.NextInt64())],
                    F32 => [0x43, 0, 0, 0x80, 0x7F],
                    _ => (byte[])[0x44, 0, 0, 0, 0, 0, 0, 0xF0, 0x7F],
                });
            }

            calls.AddRange([0x10, .. Leb(f)]);
            if (results.Length > 0)
            {
                calls.Add(0x1A);
            }
        }

        if (_random.Next(3) == 0)
        {
            w.Import("env", "table", 1, [FuncRef, 0x00, .. Leb((uint)_random.Next(0, 1_000_000))]);
        }

        w.Memory((uint)_random.Next(0, 4));
        w.Export("memory", 2, 0);
        var t = w.Type([], []);
        w.Export("_start", 0, w.Function(t, [], [.. calls]));
        return new("imports " + string.Join(", ", description), w.Build());
    }

    /// <summary>A loop that never ends: only fuel stops it.</summary>
    public static HostileModule EndlessLoop()
    {
        var w = new WasmModuleWriter();
        var t = w.Type([], []);
        w.Export("_start", 0, w.Function(t, [], [0x03, 0x40, 0x0C, 0x00, 0x0B]));
        return new("endless loop", w.Build());
    }

    /// <summary>One of the other modules with a few bytes changed (often malformed or invalid).</summary>
    public HostileModule Mutated()
    {
        var inner = _random.Next(4) switch
        {
            0 => StackBomb(Size(5_000), Pick(ValueTypes), RecursionShape.Self),
            1 => DeepNesting(Size(200), _random.Next(3)),
            2 => OddImports(),
            _ => BigMemory(1, 1, 1),
        };
        var bytes = inner.Wasm.ToArray();
        var changes = _random.Next(1, 4);
        for (var i = 0; i < changes; i++)
        {
            bytes[_random.Next(8, bytes.Length)] = (byte)_random.Next(256);
        }

        return new($"mutated ({changes} bytes) {inner.Description}", bytes);
    }

    /// <summary>A size biased towards small values but reaching <paramref name="max"/>.</summary>
    private int Size(int max) => (int)Math.Min(max, Math.Pow(max + 1, _random.NextDouble()));

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private static string Name(byte type) => type switch
    {
        I32 => "i32",
        I64 => "i64",
        F32 => "f32",
        F64 => "f64",
        FuncRef => "funcref",
        _ => "externref",
    };
}

/// <summary>How a stack bomb recurses.</summary>
public enum RecursionShape
{
    Self,
    Mutual,
    Indirect,
}
