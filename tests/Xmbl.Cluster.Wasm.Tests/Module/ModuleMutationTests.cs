using Xmbl.Cluster.Wasm.Tests.Spec;
using Xunit.Abstractions;

namespace Xmbl.Cluster.Wasm.Tests.Module;

/// <summary>
/// Randomized robustness: valid modules from the spec suite are mutated (bit flips, truncation, insertion, deletion,
/// LEB128 over-extension) with a fixed seed; decode + validate must either succeed or throw a
/// <see cref="WasmCompileException"/> — never another exception, never hang.
/// </summary>
[Trait("Suite", "Functional")]
public sealed class ModuleMutationTests
{
    private const int Seed = 20_260_807;
    private const int Mutations = 100_000;

    private readonly ITestOutputHelper _output;

    public ModuleMutationTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void DecodeAndValidate_MutatedSpecModules_OnlyEverThrowCompileErrors()
    {
        var corpus = LoadCorpus();
        Assert.NotEmpty(corpus);
        var random = new Random(Seed);
        var outcomes = new int[2];
        for (var i = 0; i < Mutations; i++)
        {
            var original = corpus[random.Next(corpus.Count)];
            var mutated = Mutate(original, random);
            try
            {
                ModuleValidator.Validate(ModuleDecoder.Decode(mutated));
                outcomes[0]++;
            }
            catch (WasmCompileException)
            {
                outcomes[1]++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} (seed {Seed}) threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(mutated)}\n{e.StackTrace}");
            }
        }

        // Most mutations must be caught; some (e.g. flipping a constant) stay valid.
        _output.WriteLine($"{Mutations} mutations: {outcomes[0]} still valid, {outcomes[1]} rejected with WasmCompileException");
        Assert.True(outcomes[1] > Mutations / 4, $"only {outcomes[1]} of {Mutations} mutations were rejected");
        Assert.True(outcomes[0] > 0, "no mutation stayed valid: the corpus or the mutator is broken");
    }

    /// <summary>
    /// Mutants that still validate go through the whole engine: compile (translation must accept every valid module),
    /// instantiate against <c>spectest</c>, and call every exported function with zero arguments under a fuel limit.
    /// Allowed failures are the engine's own: link errors, traps (including running out of fuel) — never a .NET
    /// exception escaping from generated code.
    /// </summary>
    [Fact]
    public void Engine_ValidMutants_CompileInstantiateAndRunWithoutCrashing()
    {
        var corpus = LoadCorpus();
        var random = new Random(Seed + 1);
        var engine = new WasmEngine(new WasmEngineOptions { FuelMetering = true, CompiledModuleCacheSize = 0 });
        int executed = 0, calls = 0, traps = 0, linkErrors = 0;
        for (var i = 0; i < 4_000 && executed < 400; i++)
        {
            var mutated = Mutate(corpus[random.Next(corpus.Count)], random);
            try
            {
                ModuleValidator.Validate(ModuleDecoder.Decode(mutated));
            }
            catch (WasmCompileException)
            {
                continue;
            }

            executed++;
            try
            {
                var compiled = engine.Compile(mutated);
                var store = new Store(engine, new StoreLimitsBuilder().Fuel(1_000_000).MemoryPages(64).CallDepth(500).Build());
                var linker = new Linker(engine);
                SpectestHost.Define(linker);
                var instance = linker.Instantiate(store, compiled);
                foreach (var export in instance.Exports)
                {
                    if (instance.GetFunction(export.Name) is { } function)
                    {
                        var args = function.Type.Parameters.Select(DefaultValue).ToArray();
                        try
                        {
                            calls++;
                            function.Invoke(args);
                        }
                        catch (WasmTrapException)
                        {
                            traps++;
                        }
                    }
                }
            }
            catch (WasmLinkException)
            {
                linkErrors++;
            }
            catch (WasmTrapException)
            {
                traps++;
            }
            catch (Exception e)
            {
                Assert.Fail($"valid mutant {i} (seed {Seed + 1}) threw {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(mutated)}\n{e.StackTrace}");
            }
        }

        _output.WriteLine($"{executed} valid mutants compiled, instantiated and run ({calls} calls, {traps} traps, {linkErrors} link errors)");
        Assert.True(executed >= 100, $"only {executed} valid mutants were produced");
    }

    private static WasmValue DefaultValue(WasmValueType type) => type switch
    {
        WasmValueType.I32 => WasmValue.FromI32(0),
        WasmValueType.I64 => WasmValue.FromI64(0),
        WasmValueType.F32 => WasmValue.FromF32(0),
        WasmValueType.F64 => WasmValue.FromF64(0),
        _ => WasmValue.NullRef(type),
    };

    private static List<byte[]> LoadCorpus()
    {
        var corpus = new List<byte[]>();
        foreach (var name in SpecSuite.SupportedFiles())
        {
            var file = SpecSuite.Load(name);
            foreach (var command in file.Commands)
            {
                if (command.Type == "module" && command.FileName is { } fileName)
                {
                    var bytes = file.ReadModule(fileName);
                    if (bytes.Length <= 64 * 1024)
                    {
                        corpus.Add(bytes);
                    }
                }
            }
        }

        return corpus;
    }

    internal static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        var count = 1 + random.Next(3);
        for (var m = 0; m < count && bytes.Count > 8; m++)
        {
            // Mostly mutate after the header so the sections get exercised.
            var position = 8 + random.Next(bytes.Count - 8);
            switch (random.Next(6))
            {
                case 0:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(position, bytes.Count - position);
                    break;
                case 3:
                    bytes.Insert(position, (byte)random.Next(256));
                    break;
                case 4:
                    bytes.RemoveAt(position);
                    break;
                default:
                    // Over-extend a LEB128: set the continuation bit and append a zero-payload byte.
                    if (bytes[position] < 0x80)
                    {
                        bytes[position] |= 0x80;
                        bytes.Insert(position + 1, random.Next(2) == 0 ? (byte)0x00 : (byte)0x80);
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}
