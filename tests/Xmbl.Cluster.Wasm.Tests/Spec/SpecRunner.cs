using System.Globalization;

namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>
/// Executes every command of a spec file in order against the engine: modules are compiled and instantiated through a
/// <see cref="Linker"/> that provides <c>spectest</c> and every <c>register</c>ed instance; assertions compare results
/// bit-exactly (NaN classes per the suite's <c>nan:canonical</c>/<c>nan:arithmetic</c>).
/// </summary>
internal sealed class SpecRunner
{
    private readonly SpecFile _file;
    private readonly SpecFileResult _result;
    private readonly WasmEngine _engine;
    private readonly Store _store;
    private readonly Linker _linker;
    private readonly Dictionary<string, Instance> _named = new(StringComparer.Ordinal);
    private Instance? _current;
    private string? _currentFailure;

    private SpecRunner(SpecFile file, bool fuelMetering)
    {
        _file = file;
        _result = new SpecFileResult(file.Name, fuelMetering ? "fuel-on" : "fuel-off");
        _engine = new WasmEngine(new WasmEngineOptions { FuelMetering = fuelMetering });
        // The wall clock only guards the test run against an engine hang; no spec test comes near it.
        var limits = new StoreLimitsBuilder().WallClock(TimeSpan.FromSeconds(60));
        if (fuelMetering)
        {
            limits.Fuel(1_000_000_000_000);
        }

        _store = new Store(_engine, limits.Build());
        _linker = new Linker(_engine);
        SpectestHost.Define(_linker);
    }

    public static string ModeName(bool fuelMetering) => fuelMetering ? "fuel-on" : "fuel-off";

    public static SpecFileResult Run(SpecFile file, bool fuelMetering)
    {
        var runner = new SpecRunner(file, fuelMetering);
        foreach (var command in file.Commands)
        {
            runner.Execute(command);
        }

        return runner._result;
    }

    private void Execute(SpecCommand command)
    {
        try
        {
            switch (command.Type)
            {
                case "module":
                    Module(command);
                    break;
                case "register":
                    Register(command);
                    break;
                case "action":
                    Invoke(command.Action!);
                    _result.Pass(command);
                    break;
                case "assert_return":
                    AssertReturn(command);
                    break;
                case "assert_trap":
                case "assert_exhaustion":
                    AssertTrap(command);
                    break;
                case "assert_invalid":
                    AssertCompileError(command, typeof(WasmInvalidException));
                    break;
                case "assert_malformed" when command.ModuleType == "text":
                    _result.Skip(command, "text format");
                    break;
                case "assert_malformed":
                    AssertCompileError(command, typeof(WasmMalformedException));
                    break;
                case "assert_unlinkable":
                    AssertInstantiationError(command, typeof(WasmLinkException));
                    break;
                case "assert_uninstantiable":
                    AssertInstantiationError(command, typeof(WasmTrapException));
                    break;
                default:
                    _result.Fail(command, $"unknown command type {command.Type}");
                    break;
            }
        }
        catch (SpecFailure failure)
        {
            _result.Fail(command, failure.Message);
        }
        catch (Exception e)
        {
            _result.Fail(command, $"unexpected {SpecValidationRunner.Describe(e)}");
        }
    }

    private void Module(SpecCommand command)
    {
        _current = null;
        _currentFailure = null;
        try
        {
            var compiled = _engine.Compile(_file.ReadModule(command.FileName!));
            var instance = _linker.Instantiate(_store, compiled);
            _current = instance;
            if (command.Name is { } name)
            {
                _named[name] = instance;
            }

            _result.Pass(command);
        }
        catch (Exception e)
        {
            _currentFailure = $"module at line {command.Line} failed: {SpecValidationRunner.Describe(e)}";
            if (command.Name is { } name)
            {
                _named.Remove(name);
            }

            _result.Fail(command, $"{command.FileName}: {SpecValidationRunner.Describe(e)}");
        }
    }

    private void Register(SpecCommand command)
    {
        var instance = Target(command.Name);
        _linker.DefineInstance(command.As!, instance);
        _result.Pass(command);
    }

    private Instance Target(string? name)
    {
        if (name is null)
        {
            return _current ?? throw new SpecFailure(_currentFailure ?? "no module instantiated");
        }

        return _named.TryGetValue(name, out var instance) ? instance : throw new SpecFailure($"unknown module {name}");
    }

    private WasmValue[] Invoke(SpecAction action)
    {
        var instance = Target(action.Module);
        switch (action.Type)
        {
            case "invoke":
                {
                    var function = instance.GetFunction(action.Field) ?? throw new SpecFailure($"no exported function \"{action.Field}\"");
                    var args = new WasmValue[action.Args.Count];
                    for (var i = 0; i < args.Length; i++)
                    {
                        args[i] = ToValue(action.Args[i]);
                    }

                    return function.Invoke(args);
                }

            case "get":
                {
                    var global = instance.GetGlobal(action.Field) ?? throw new SpecFailure($"no exported global \"{action.Field}\"");
                    return [global.Value];
                }

            default:
                throw new SpecFailure($"unknown action type {action.Type}");
        }
    }

    private void AssertReturn(SpecCommand command)
    {
        var results = Invoke(command.Action!);
        if (results.Length != command.Expected.Count)
        {
            throw new SpecFailure($"{command.Action}: expected {command.Expected.Count} results, got {results.Length}");
        }

        for (var i = 0; i < results.Length; i++)
        {
            if (!Matches(command.Expected[i], results[i]))
            {
                throw new SpecFailure($"{command.Action}: result {i} expected {command.Expected[i]}, got {Show(results[i])}");
            }
        }

        _result.Pass(command);
    }

    private void AssertTrap(SpecCommand command)
    {
        try
        {
            var results = Invoke(command.Action!);
            throw new SpecFailure($"{command.Action}: expected trap \"{command.Text}\", returned [{string.Join(", ", results.Select(Show))}]");
        }
        catch (WasmTrapException trap)
        {
            if (command.Type == "assert_exhaustion" && trap.Kind != TrapKind.CallStackExhausted)
            {
                throw new SpecFailure($"{command.Action}: expected call stack exhaustion, got {trap.Kind}: {trap.Message}");
            }

            CheckTrapText(command, trap);
            _result.Pass(command);
        }
    }

    /// <summary>
    /// The trap message must contain the suite's text. The reference interpreter appends operands to a few messages
    /// ("uninitialized element 2"); those trailing numbers are implementation detail and are not required.
    /// </summary>
    private static void CheckTrapText(SpecCommand command, WasmTrapException trap)
    {
        if (command.Text is not { } text)
        {
            return;
        }

        var lastSpace = text.LastIndexOf(' ');
        var core = lastSpace > 0 && text.AsSpan(lastSpace + 1).IndexOfAnyExceptInRange('0', '9') < 0 ? text[..lastSpace] : text;
        if (!trap.Message.Contains(core, StringComparison.Ordinal))
        {
            throw new SpecFailure($"trap message \"{trap.Message}\" ({trap.Kind}) does not contain \"{text}\"");
        }
    }

    private void AssertCompileError(SpecCommand command, Type expected)
    {
        try
        {
            _engine.Compile(_file.ReadModule(command.FileName!));
        }
        catch (WasmCompileException e) when (e.GetType() == expected)
        {
            _result.Pass(command);
            if (command.Text is { } text && !e.Message.Contains(text, StringComparison.Ordinal))
            {
                _result.NoteMessageMismatch();
            }

            return;
        }
        catch (WasmCompileException e)
        {
            throw new SpecFailure($"{command.FileName}: expected {expected.Name} \"{command.Text}\", got {SpecValidationRunner.Describe(e)}");
        }

        throw new SpecFailure($"{command.FileName}: expected {expected.Name} \"{command.Text}\", but it compiled");
    }

    private void AssertInstantiationError(SpecCommand command, Type expected)
    {
        var compiled = _engine.Compile(_file.ReadModule(command.FileName!));
        try
        {
            _linker.Instantiate(_store, compiled);
        }
        catch (WasmException e) when (e.GetType() == expected)
        {
            if (e is WasmTrapException trap)
            {
                CheckTrapText(command, trap);
            }

            _result.Pass(command);
            return;
        }
        catch (WasmException e)
        {
            throw new SpecFailure($"{command.FileName}: expected {expected.Name} \"{command.Text}\", got {SpecValidationRunner.Describe(e)}");
        }

        throw new SpecFailure($"{command.FileName}: expected {expected.Name} \"{command.Text}\", but it instantiated");
    }

    internal static WasmValue ToValue(SpecValue value)
    {
        var text = value.Value ?? throw new SpecFailure($"argument without a value: {value}");
        return value.Type switch
        {
            "i32" => WasmValue.FromI32((int)uint.Parse(text, CultureInfo.InvariantCulture)),
            "i64" => WasmValue.FromI64((long)ulong.Parse(text, CultureInfo.InvariantCulture)),
            "f32" => WasmValue.FromF32Bits(uint.Parse(text, CultureInfo.InvariantCulture)),
            "f64" => WasmValue.FromF64Bits(ulong.Parse(text, CultureInfo.InvariantCulture)),
            "externref" => text == "null"
                ? WasmValue.NullRef(WasmValueType.ExternRef)
                : WasmValue.FromRef(WasmValueType.ExternRef, new SpecHostReference(ulong.Parse(text, CultureInfo.InvariantCulture))),
            "funcref" when text == "null" => WasmValue.NullRef(WasmValueType.FuncRef),
            _ => throw new SpecFailure($"unsupported argument {value}"),
        };
    }

    internal static bool Matches(SpecValue expected, WasmValue actual)
    {
        var text = expected.Value;
        switch (expected.Type)
        {
            case "i32":
                return actual.Type == WasmValueType.I32 && (uint)actual.I32 == uint.Parse(text!, CultureInfo.InvariantCulture);
            case "i64":
                return actual.Type == WasmValueType.I64 && (ulong)actual.I64 == ulong.Parse(text!, CultureInfo.InvariantCulture);
            case "f32":
                return actual.Type == WasmValueType.F32 && text switch
                {
                    "nan:canonical" => (actual.F32Bits & 0x7FFF_FFFF) == 0x7FC0_0000,
                    "nan:arithmetic" => (actual.F32Bits & 0x7FC0_0000) == 0x7FC0_0000,
                    _ => actual.F32Bits == uint.Parse(text!, CultureInfo.InvariantCulture),
                };
            case "f64":
                return actual.Type == WasmValueType.F64 && text switch
                {
                    "nan:canonical" => (actual.F64Bits & 0x7FFF_FFFF_FFFF_FFFF) == 0x7FF8_0000_0000_0000,
                    "nan:arithmetic" => (actual.F64Bits & 0x7FF8_0000_0000_0000) == 0x7FF8_0000_0000_0000,
                    _ => actual.F64Bits == ulong.Parse(text!, CultureInfo.InvariantCulture),
                };
            case "externref":
                return actual.Type == WasmValueType.ExternRef && (text == "null"
                    ? actual.Ref is null
                    : actual.Ref is SpecHostReference r && r.Id == ulong.Parse(text!, CultureInfo.InvariantCulture));
            case "funcref":
                return actual.Type == WasmValueType.FuncRef && (text == "null" ? actual.Ref is null : actual.Ref is not null);
            default:
                return false;
        }
    }

    internal static string Show(WasmValue value) => value.Type switch
    {
        WasmValueType.I32 => string.Create(CultureInfo.InvariantCulture, $"i32:{(uint)value.I32}"),
        WasmValueType.I64 => string.Create(CultureInfo.InvariantCulture, $"i64:{(ulong)value.I64}"),
        WasmValueType.F32 => string.Create(CultureInfo.InvariantCulture, $"f32:{value.F32Bits} ({value.F32})"),
        WasmValueType.F64 => string.Create(CultureInfo.InvariantCulture, $"f64:{value.F64Bits} ({value.F64})"),
        _ => $"{value.Type.ToWatName()}:{(value.Ref is null ? "null" : value.Ref.ToString())}",
    };

    private sealed class SpecFailure(string message) : Exception(message);
}
