namespace Xmbl.Cluster.Benchmarks.Wasm;

/// <summary>
/// The benchmark kernels as module binaries, assembled here so the benchmarks need no external tools. The text
/// form of each kernel is in the comment above it.
/// </summary>
internal static class WasmBenchModules
{
    /// <summary>
    /// (func $fib (export "fib") (param i32) (result i32)
    ///   (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
    ///     (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    /// </summary>
    public static byte[] Fib() => Module(
        types: [[0x60, 1, 0x7F, 1, 0x7F]],
        functionTypes: [0],
        memoryPages: null,
        exports: [("fib", 0)],
        bodies:
        [
            [0x00, 0x20, 0x00, 0x41, 0x02, 0x49, 0x04, 0x7F, 0x20, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6B, 0x10, 0x00,
             0x20, 0x00, 0x41, 0x02, 0x6B, 0x10, 0x00, 0x6A, 0x0B, 0x0B],
        ]);

    /// <summary>(memory 16) (func (export "_start")): the fixed cost of a run.</summary>
    public static byte[] EmptyCommand() => Module(
        types: [[0x60, 0, 0]],
        functionTypes: [0],
        memoryPages: 16,
        exports: [("_start", 0)],
        bodies: [[0x00, 0x0B]]);

    /// <summary>
    /// (memory (export "memory") 16)
    /// (func (export "sum") (param $len i32) (result i32) (local $i i32) (local $acc i32)
    ///   (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $len)))
    ///     (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $i))))
    ///     (local.set $i (i32.add (local.get $i) (i32.const 4))) (br 0)))
    ///   (local.get $acc))
    /// </summary>
    public static byte[] MemorySum() => Module(
        types: [[0x60, 1, 0x7F, 1, 0x7F]],
        functionTypes: [0],
        memoryPages: 16,
        exports: [("sum", 0)],
        bodies:
        [
            [0x01, 0x02, 0x7F, 0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4F, 0x0D, 0x01,
             0x20, 0x02, 0x20, 0x01, 0x28, 0x02, 0x00, 0x6A, 0x21, 0x02,
             0x20, 0x01, 0x41, 0x04, 0x6A, 0x21, 0x01, 0x0C, 0x00, 0x0B, 0x0B, 0x20, 0x02, 0x0B],
        ]);

    /// <summary>
    /// About 1 MiB of code: 3,276 functions, each a block/loop with 30 rounds of
    /// <c>local.set 2 (i32.mul (i32.add (local.get 0) (local.get 1)) (i32.const 7))</c> and a <c>br_if</c>.
    /// </summary>
    public static byte[] LargeModule()
    {
        var body = new List<byte> { 0x01, 0x02, 0x7F, 0x02, 0x40, 0x03, 0x40 };
        for (var i = 0; i < 30; i++)
        {
            body.AddRange([0x20, 0x00, 0x20, 0x01, 0x6A, 0x41, 0x07, 0x6C, 0x21, 0x02]);
        }

        body.AddRange([0x20, 0x02, 0x0D, 0x01, 0x0C, 0x00, 0x0B, 0x0B, 0x20, 0x02, 0x0B]);
        var count = (1 << 20) / (body.Count + 2);
        var types = new byte[][] { [0x60, 2, 0x7F, 0x7F, 1, 0x7F] };
        return Module(types, new int[count], null, [("f", 0)], Enumerable.Repeat(body.ToArray(), count).ToArray());
    }

    private static byte[] Module(byte[][] types, int[] functionTypes, int? memoryPages, (string Name, int Function)[] exports, byte[][] bodies)
    {
        var bytes = new List<byte> { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00 };
        Section(bytes, 1, Vector(types));
        Section(bytes, 3, Vector(functionTypes.Select(t => Leb((uint)t)).ToArray()));
        if (memoryPages is { } pages)
        {
            Section(bytes, 5, Vector([[0x00, .. Leb((uint)pages)]]));
        }

        var exportItems = exports.Select(e => (byte[])[.. Leb((uint)e.Name.Length), .. System.Text.Encoding.UTF8.GetBytes(e.Name), 0x00, .. Leb((uint)e.Function)]).ToList();
        if (memoryPages is not null)
        {
            exportItems.Add([6, .. "memory"u8, 0x02, 0x00]);
        }

        Section(bytes, 7, Vector([.. exportItems]));
        Section(bytes, 10, Vector(bodies.Select(b => (byte[])[.. Leb((uint)b.Length), .. b]).ToArray()));
        return [.. bytes];
    }

    private static byte[] Vector(byte[][] items) => [.. Leb((uint)items.Length), .. items.SelectMany(i => i)];

    private static void Section(List<byte> bytes, byte id, byte[] content)
    {
        bytes.Add(id);
        bytes.AddRange(Leb((uint)content.Length));
        bytes.AddRange(content);
    }

    private static byte[] Leb(uint value)
    {
        var result = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if (value != 0)
            {
                b |= 0x80;
            }

            result.Add(b);
        }
        while (value != 0);
        return [.. result];
    }
}
