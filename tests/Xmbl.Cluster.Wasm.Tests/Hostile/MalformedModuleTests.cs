using Xmbl.Cluster.Wasm.Tests.Execution;
using Xmbl.Cluster.Wasm.Tests.Wasi;
using Xmbl.Cluster.Wasm.Wasi;

namespace Xmbl.Cluster.Wasm.Tests.Hostile;

/// <summary>Broken and adversarial binaries: every one must be rejected with a typed compile error (or, if it
/// happens to be a valid module, run to a typed outcome) without hanging, exhausting memory or crashing.</summary>
[Trait("Suite", "Functional")]
public sealed class MalformedModuleTests
{
    private static readonly byte[] Header = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];

    public static TheoryData<string, byte[]> AbsurdModules() => new()
    {
        { "empty file", [] },
        { "bad magic", [0x00, 0x61, 0x73, 0x6E, 0x01, 0x00, 0x00, 0x00] },
        { "version 2", [0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00] },
        { "section size 4 GiB", [.. Header, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x60, 0x00, 0x00] },
        { "section size LEB too long", [.. Header, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00] },
        { "type count 2^32-1", [.. Header, 0x01, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x60] },
        { "function count 100M", [.. Header, 0x03, 0x05, 0x80, 0xC2, 0xD7, 0x2F, 0x00] },
        { "import count 2^32-1", [.. Header, 0x02, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F] },
        { "data count 2^32-1", [.. Header, 0x0B, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F] },
        { "memory min 2^32-1 pages", [.. Header, 0x05, 0x07, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F] },
        { "unknown section id", [.. Header, 0x20, 0x00] },
        { "custom section name longer than section", [.. Header, 0x00, 0x02, 0x7F, 0x61] },
        {
            "2^32-1 locals in one body",
            [.. Header, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                0x0A, 0x0A, 0x01, 0x08, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B]
        },
        {
            "function body size beyond section",
            [.. Header, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0A, 0x04, 0x01, 0xFF, 0xFF, 0x03]
        },
        {
            "block nesting deeper than the control limit",
            [.. Header, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, .. DeeplyNestedBody(20_000)]
        },
    };

    [Theory]
    [MemberData(nameof(AbsurdModules))]
    public void Compile_AbsurdModule_ThrowsCompileException(string description, byte[] bytes)
    {
        var error = Record.Exception(() => WasiFixtures.Engine.Compile(bytes));

        Assert.True(error is WasmCompileException, $"{description}: expected a WasmCompileException, got {error?.GetType().Name ?? "success"}");
    }

    [Fact]
    public void Compile_EveryTruncationInsideASection_IsMalformed()
    {
        var bytes = WasiFixtures.Bytes("hello");
        var sections = SectionBounds(bytes);

        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var prefix = bytes.AsMemory(0, cut);
            var error = Record.Exception(() => WasiFixtures.Engine.Compile(prefix));
            var insideSection = cut < 8 || sections.Any(s => cut > s.Start && cut < s.End);
            if (insideSection)
            {
                Assert.True(error is WasmMalformedException, $"cut at {cut}: expected WasmMalformedException, got {error?.GetType().Name ?? "success"}");
            }
            else
            {
                Assert.True(error is null or WasmCompileException, $"cut at {cut}: {error}");
            }
        }
    }

    [Fact]
    public void CompileAndRun_RandomlyMutatedPrograms_EndInTypedOutcomes()
    {
        var original = WasiFixtures.Bytes("hello");
        var random = new Random(20261122);
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 300; i++)
        {
            var mutated = (byte[])original.Clone();
            var flips = random.Next(1, 6);
            for (var f = 0; f < flips; f++)
            {
                mutated[random.Next(8, mutated.Length)] = (byte)random.Next(256);
            }

            var outcome = CompileAndRun(mutated);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Most single-byte corruptions of real code are caught by the decoder or validator.
        Assert.True(outcomes.Keys.Any(k => k.StartsWith("compile", StringComparison.Ordinal)), string.Join(", ", outcomes));
    }

    private static string CompileAndRun(byte[] bytes)
    {
        CompiledModule module;
        try
        {
            module = WasiFixtures.Engine.Compile(bytes);
        }
        catch (WasmCompileException e)
        {
            return "compile:" + e.GetType().Name;
        }

        var store = new Store(WasiFixtures.Engine, new StoreLimitsBuilder().Fuel(20_000_000).MemoryPages(256).Build());
        using var wasi = new WasiContext(new WasiConfiguration { Stdout = Stream.Null, Stderr = Stream.Null });
        try
        {
            var instance = wasi.AddToLinker(new Linker(WasiFixtures.Engine)).Instantiate(store, module);
            if (instance.GetFunction("_start") is not { Type.Parameters.Count: 0, Type.Results.Count: 0 })
            {
                return "no _start";
            }

            return "exit:" + wasi.RunCommand(instance);
        }
        catch (WasmException e)
        {
            return "run:" + e.GetType().Name;
        }
    }

    private static byte[] DeeplyNestedBody(int depth)
    {
        // One body: `depth` x (block), then `depth` x end, then the function's end.
        var body = new List<byte> { 0x00 };
        for (var i = 0; i < depth; i++)
        {
            body.Add(0x02);
            body.Add(0x40);
        }

        body.AddRange(Enumerable.Repeat((byte)0x0B, depth + 1));
        var entry = new List<byte>(TestModule.Leb((ulong)body.Count));
        entry.AddRange(body);
        var content = new List<byte> { 0x01 };
        content.AddRange(entry);
        return [0x0A, .. TestModule.Leb((ulong)content.Count), .. content];
    }

    private static List<(int Start, int End)> SectionBounds(byte[] bytes)
    {
        var result = new List<(int, int)>();
        var pos = 8;
        while (pos < bytes.Length)
        {
            var start = pos;
            pos++; // id
            ulong size = 0;
            var shift = 0;
            byte b;
            do
            {
                b = bytes[pos++];
                size |= (ulong)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);
            var end = pos + (int)size;
            result.Add((start, end));
            pos = end;
        }

        return result;
    }
}
