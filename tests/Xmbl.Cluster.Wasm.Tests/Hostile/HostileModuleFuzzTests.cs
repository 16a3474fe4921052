using System.Globalization;
using Xmbl.Cluster.Testing.Wasm;
using Xmbl.Cluster.Wasm.Wasi;
using Xunit.Abstractions;

namespace Xmbl.Cluster.Wasm.Tests.Hostile;

/// <summary>
/// In-process fuzzing with the hostile generator that the silo fuzzer (IntegrationTests) uses: every module ends in
/// a typed error, trap or exit, within a bound, with the same outcome and fuel when run twice. Runs for
/// <c>XMBL_FUZZ_SECONDS</c> (default 10); <c>XMBL_FUZZ_SEED</c> replays a run (the seed is printed).
/// </summary>
[Trait("Suite", "Functional")]
public sealed class HostileModuleFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PerModule = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task GeneratedHostileModules_EndInATypedOutcome_Deterministically()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("XMBL_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("XMBL_FUZZ_SECONDS"), CultureInfo.InvariantCulture, out var d) ? d : 10;
        output.WriteLine($"XMBL_FUZZ_SEED={seed}");
        var generator = new HostileModules(seed);
        var engine = new WasmEngine(new WasmEngineOptions { FuelMetering = true });
        var until = DateTime.UtcNow.AddSeconds(seconds);
        var count = 0;
        while (DateTime.UtcNow < until)
        {
            var module = generator.Next();
            count++;
            var context = $"seed {seed}, module {count}: {module.Description}";
            var first = await RunAsync(engine, module, context);
            var second = await RunAsync(engine, module, context);
            output.WriteLine($"{count}: {module.Description} -> {first}");
            Assert.True(first == second, $"{context}: {first} then {second}");
        }

        Assert.True(count > 0);
    }

    private static async Task<string> RunAsync(WasmEngine engine, HostileModule module, string context)
    {
        var run = GuestThreads.RunAsync(() => Run(engine, module.Wasm));
        try
        {
            return await run.WaitAsync(PerModule);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{context}: still running after {PerModule}");
            throw;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context}: {ex}");
            throw;
        }
    }

    /// <summary>The outcome as text: what ended the run and the fuel it used.</summary>
    private static string Run(WasmEngine engine, byte[] wasm)
    {
        CompiledModule compiled;
        try
        {
            compiled = engine.Compile(wasm);
        }
        catch (WasmCompileException ex)
        {
            return "rejected: " + ex.GetType().Name;
        }

        using var store = new Store(engine, new StoreLimitsBuilder().Fuel(20_000_000).MemoryPages(4_096).WallClock(TimeSpan.FromSeconds(20)).Build());
        using var wasi = new WasiContext(new WasiConfiguration { Stdout = Stream.Null, Stderr = Stream.Null }.MakeDeterministic(1));
        try
        {
            var instance = wasi.AddToLinker(new Linker(engine)).Instantiate(store, compiled);
            return $"exit {wasi.RunCommand(instance)}, fuel {store.FuelConsumed}";
        }
        catch (WasmLinkException ex)
        {
            return "link error: " + ex.Message;
        }
        catch (WasmTrapException ex)
        {
            Assert.NotEqual(TrapKind.Timeout, ex.Kind);
            return $"trap {ex.Kind}, fuel {store.FuelConsumed}";
        }
        catch (InvalidOperationException ex)
        {
            return "not a command: " + ex.Message;
        }
    }
}
