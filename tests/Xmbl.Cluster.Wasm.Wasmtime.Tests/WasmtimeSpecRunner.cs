using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Wt = global::Wasmtime;

namespace Xmbl.Cluster.Wasm.Wasmtime.Tests;

/// <summary>
/// Runs one file of the WebAssembly spec suite (wast2json output in <c>shared/wasm-spec/json</c>, as the managed
/// engine's spec tests use) on Wasmtime configured exactly as <see cref="WasmtimeEngine"/> configures it, SIMD files
/// included: values compared bit-exactly, NaN classes per <c>nan:canonical</c> / <c>nan:arithmetic</c>, traps by kind
/// (Wasmtime's messages are its own). Text-format modules are skipped.
/// </summary>
internal sealed class WasmtimeSpecRunner : IDisposable
{
    private readonly string _directory;
    private readonly Wt.Engine _engine;
    private readonly Wt.Store _store;
    private readonly Wt.Linker _linker;
    private readonly Dictionary<string, Wt.Instance> _named = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private Wt.Instance? _current;

    private WasmtimeSpecRunner(string directory)
    {
        _directory = directory;
        using (var config = WasmtimeEngine.CreateConfig(new WasmtimeEngineOptions()))
        {
            _engine = new Wt.Engine(config);
        }

        _store = new Wt.Store(_engine);
        _store.Fuel = 1_000_000_000_000;
        _store.SetEpochDeadline(1_000_000);
        _linker = new Wt.Linker(_engine) { AllowShadowing = true };
        DefineSpectest();
    }

    public int Passed { get; private set; }

    public int Skipped { get; private set; }

    public IReadOnlyList<string> Failures => _failures;

    public static string? SuiteDirectory()
    {
        if (Environment.GetEnvironmentVariable("XMBL_WASM_SPEC_DIR") is { Length: > 0 } configured)
        {
            return Directory.Exists(configured) ? configured : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "wasm-spec", "json");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static WasmtimeSpecRunner Run(string file)
    {
        var suite = SuiteDirectory() ?? throw new DirectoryNotFoundException("shared/wasm-spec/json not found above " + AppContext.BaseDirectory + " (or set XMBL_WASM_SPEC_DIR)");
        var directory = Path.Combine(suite, file);
        var runner = new WasmtimeSpecRunner(directory);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, file + ".json")));
        foreach (var command in json.RootElement.GetProperty("commands").EnumerateArray())
        {
            runner.Execute(command);
        }

        return runner;
    }

    public void Dispose()
    {
        _linker.Dispose();
        _store.Dispose();
        _engine.Dispose();
    }

    private void Execute(JsonElement command)
    {
        var type = command.GetProperty("type").GetString()!;
        var line = command.GetProperty("line").GetInt32();
        try
        {
            if (Str(command, "module_type") == "text")
            {
                Skipped++;
                return;
            }

            switch (type)
            {
                case "module":
                    Module(command);
                    break;
                case "register":
                    _linker.DefineInstance(_store, Str(command, "as")!, Target(Str(command, "name")));
                    break;
                case "action":
                    Invoke(command.GetProperty("action"));
                    break;
                case "assert_return":
                    AssertReturn(command);
                    break;
                case "assert_trap":
                case "assert_exhaustion":
                    AssertTrap(command, type == "assert_exhaustion");
                    break;
                case "assert_invalid":
                case "assert_malformed":
                    AssertRejected(command);
                    break;
                case "assert_unlinkable":
                case "assert_uninstantiable":
                    AssertNotInstantiated(command, trap: type == "assert_uninstantiable");
                    break;
                default:
                    throw new SpecFailure($"unknown command type {type}");
            }

            Passed++;
        }
        catch (SpecFailure failure)
        {
            _failures.Add($"line {line} {type}: {failure.Message}");
        }
        catch (Exception ex) when (ex is Wt.WasmtimeException or InvalidOperationException or ArgumentException)
        {
            _failures.Add($"line {line} {type}: unexpected {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        }
    }

    private void Module(JsonElement command)
    {
        _current = null;
        using var module = Wt.Module.FromBytes(_engine, "spec", File.ReadAllBytes(Path.Combine(_directory, Str(command, "filename")!)));
        _current = _linker.Instantiate(_store, module);
        if (Str(command, "name") is { } name)
        {
            _named[name] = _current;
        }
    }

    private Wt.Instance Target(string? name) =>
        name is null ? _current ?? throw new SpecFailure("no module instantiated")
        : _named.TryGetValue(name, out var instance) ? instance : throw new SpecFailure($"unknown module {name}");

    private (object?[] Values, IReadOnlyList<Wt.ValueKind> Kinds) Invoke(JsonElement action)
    {
        var instance = Target(Str(action, "module"));
        var field = action.GetProperty("field").GetString()!;
        if (action.GetProperty("type").GetString() == "get")
        {
            var global = instance.GetGlobal(field) ?? throw new SpecFailure($"no exported global {field}");
            return ([global.GetValue()], [global.Kind]);
        }

        var function = instance.GetFunction(field) ?? throw new SpecFailure($"no exported function {field}");
        var args = action.GetProperty("args").EnumerateArray().Select(ToBox).ToArray();
        var returned = function.Invoke(args);
        object?[] values = function.Results.Count switch
        {
            0 => [],
            1 => [returned],
            _ => (object?[])returned!,
        };
        return (values, function.Results);
    }

    private void AssertReturn(JsonElement command)
    {
        var (values, _) = Invoke(command.GetProperty("action"));
        var expected = command.GetProperty("expected").EnumerateArray().ToArray();
        if (values.Length != expected.Length)
        {
            throw new SpecFailure($"expected {expected.Length} results, got {values.Length}");
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (!Matches(expected[i], values[i]))
            {
                throw new SpecFailure($"result {i}: expected {expected[i]}, got {Show(values[i])}");
            }
        }
    }

    private void AssertTrap(JsonElement command, bool exhaustion)
    {
        try
        {
            Invoke(command.GetProperty("action"));
        }
        catch (Wt.TrapException trap)
        {
            if (exhaustion && trap.Type != Wt.TrapCode.StackOverflow)
            {
                throw new SpecFailure($"expected stack exhaustion, got {trap.Type}");
            }

            return;
        }

        throw new SpecFailure($"expected trap \"{Str(command, "text")}\", but it returned");
    }

    private void AssertRejected(JsonElement command)
    {
        try
        {
            using var module = Wt.Module.FromBytes(_engine, "spec", File.ReadAllBytes(Path.Combine(_directory, Str(command, "filename")!)));
        }
        catch (Wt.WasmtimeException)
        {
            return;
        }

        throw new SpecFailure($"expected \"{Str(command, "text")}\", but {Str(command, "filename")} compiled");
    }

    private void AssertNotInstantiated(JsonElement command, bool trap)
    {
        using var module = Wt.Module.FromBytes(_engine, "spec", File.ReadAllBytes(Path.Combine(_directory, Str(command, "filename")!)));
        try
        {
            _linker.Instantiate(_store, module);
        }
        catch (Wt.TrapException) when (trap)
        {
            return;
        }
        catch (Wt.WasmtimeException ex) when (!trap && ex is not Wt.TrapException)
        {
            return;
        }

        throw new SpecFailure($"expected \"{Str(command, "text")}\", but it instantiated");
    }

    private static Wt.ValueBox ToBox(JsonElement value)
    {
        var type = value.GetProperty("type").GetString();
        var v = value.GetProperty("value");
        return type switch
        {
            "i32" => (int)uint.Parse(v.GetString()!, CultureInfo.InvariantCulture),
            "i64" => (long)ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture),
            "f32" => BitConverter.UInt32BitsToSingle(uint.Parse(v.GetString()!, CultureInfo.InvariantCulture)),
            "f64" => BitConverter.UInt64BitsToDouble(ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture)),
            "v128" => new Wt.V128(Lanes(value)),
            "externref" when v.GetString() == "null" => Wt.ValueBox.AsBox<object>(null),
            "externref" => Wt.ValueBox.AsBox<object>(new HostReference(ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture))),
            "funcref" when v.GetString() == "null" => Wt.Function.Null,
            _ => throw new SpecFailure($"unsupported argument {value}"),
        };
    }

    /// <summary>The 16 bytes of a v128 given lane by lane (one unsigned decimal string per lane; the lane count gives the width).</summary>
    private static byte[] Lanes(JsonElement value)
    {
        var lanes = value.GetProperty("value").EnumerateArray().Select(l => l.GetString()!).ToArray();
        var bytes = new byte[16];
        var width = 16 / lanes.Length;
        for (var i = 0; i < lanes.Length; i++)
        {
            var lane = bytes.AsSpan(i * width, width);
            var bits = lanes[i].StartsWith("nan:", StringComparison.Ordinal) ? 0UL : ulong.Parse(lanes[i], CultureInfo.InvariantCulture);
            switch (width)
            {
                case 1: lane[0] = (byte)bits; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(lane, (ushort)bits); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(lane, (uint)bits); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(lane, bits); break;
            }
        }

        return bytes;
    }

    private static bool Matches(JsonElement expected, object? actual)
    {
        var type = expected.GetProperty("type").GetString();
        var value = expected.TryGetProperty("value", out var v) ? v : default;
        return type switch
        {
            "i32" => actual is int i && (uint)i == uint.Parse(value.GetString()!, CultureInfo.InvariantCulture),
            "i64" => actual is long l && (ulong)l == ulong.Parse(value.GetString()!, CultureInfo.InvariantCulture),
            "f32" => actual is float f && F32Matches(value.GetString()!, BitConverter.SingleToUInt32Bits(f)),
            "f64" => actual is double d && F64Matches(value.GetString()!, BitConverter.DoubleToUInt64Bits(d)),
            "v128" => actual is Wt.V128 vector && V128Matches(expected, vector),
            "externref" => value.GetString() == "null" ? actual is null : actual is HostReference r && r.Id == ulong.Parse(value.GetString()!, CultureInfo.InvariantCulture),
            "funcref" => value.ValueKind == JsonValueKind.String && value.GetString() == "null" ? actual is null || (actual is Wt.Function { IsNull: true }) : actual is Wt.Function { IsNull: false },
            _ => false,
        };
    }

    private static bool F32Matches(string expected, uint bits) => expected switch
    {
        "nan:canonical" => (bits & 0x7FFF_FFFF) == 0x7FC0_0000,
        "nan:arithmetic" => (bits & 0x7FC0_0000) == 0x7FC0_0000,
        _ => bits == uint.Parse(expected, CultureInfo.InvariantCulture),
    };

    private static bool F64Matches(string expected, ulong bits) => expected switch
    {
        "nan:canonical" => (bits & 0x7FFF_FFFF_FFFF_FFFF) == 0x7FF8_0000_0000_0000,
        "nan:arithmetic" => (bits & 0x7FF8_0000_0000_0000) == 0x7FF8_0000_0000_0000,
        _ => bits == ulong.Parse(expected, CultureInfo.InvariantCulture),
    };

    private static bool V128Matches(JsonElement expected, Wt.V128 actual)
    {
        var laneType = expected.GetProperty("lane_type").GetString();
        var lanes = expected.GetProperty("value").EnumerateArray().Select(l => l.GetString()!).ToArray();
        var bytes = actual.AsSpan();
        var width = 16 / lanes.Length;
        for (var i = 0; i < lanes.Length; i++)
        {
            var lane = bytes.Slice(i * width, width);
            var ok = laneType switch
            {
                "f32" => F32Matches(lanes[i], BinaryPrimitives.ReadUInt32LittleEndian(lane)),
                "f64" => F64Matches(lanes[i], BinaryPrimitives.ReadUInt64LittleEndian(lane)),
                _ => width switch
                {
                    1 => lane[0] == (byte)ulong.Parse(lanes[i], CultureInfo.InvariantCulture),
                    2 => BinaryPrimitives.ReadUInt16LittleEndian(lane) == (ushort)ulong.Parse(lanes[i], CultureInfo.InvariantCulture),
                    4 => BinaryPrimitives.ReadUInt32LittleEndian(lane) == (uint)ulong.Parse(lanes[i], CultureInfo.InvariantCulture),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(lane) == ulong.Parse(lanes[i], CultureInfo.InvariantCulture),
                },
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static string Show(object? value) => value switch
    {
        float f => $"f32:{BitConverter.SingleToUInt32Bits(f)}",
        double d => $"f64:{BitConverter.DoubleToUInt64Bits(d)}",
        Wt.V128 v => "v128:" + Convert.ToHexString(v.AsSpan()),
        null => "null",
        _ => value.ToString() ?? "?",
    };

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>The <c>spectest</c> module: no-op prints, globals of 666 / 666.6, a table of 10 (max 20), a memory of 1 (max 2) pages.</summary>
    private void DefineSpectest()
    {
        const string M = "spectest";
        _linker.DefineFunction(M, "print", () => { });
        _linker.DefineFunction(M, "print_i32", (int _) => { });
        _linker.DefineFunction(M, "print_i64", (long _) => { });
        _linker.DefineFunction(M, "print_f32", (float _) => { });
        _linker.DefineFunction(M, "print_f64", (double _) => { });
        _linker.DefineFunction(M, "print_i32_f32", (int _, float _) => { });
        _linker.DefineFunction(M, "print_f64_f64", (double _, double _) => { });
        _linker.Define(M, "global_i32", new Wt.Global(_store, Wt.ValueKind.Int32, 666, Wt.Mutability.Immutable));
        _linker.Define(M, "global_i64", new Wt.Global(_store, Wt.ValueKind.Int64, 666L, Wt.Mutability.Immutable));
        _linker.Define(M, "global_f32", new Wt.Global(_store, Wt.ValueKind.Float32, 666.6f, Wt.Mutability.Immutable));
        _linker.Define(M, "global_f64", new Wt.Global(_store, Wt.ValueKind.Float64, 666.6, Wt.Mutability.Immutable));
        _linker.Define(M, "table", new Wt.Table(_store, Wt.TableKind.FuncRef, null, 10, 20));
        _linker.Define(M, "memory", new Wt.Memory(_store, 1, 2, false));
    }

    private sealed record HostReference(ulong Id);

    private sealed class SpecFailure(string message) : Exception(message);
}
