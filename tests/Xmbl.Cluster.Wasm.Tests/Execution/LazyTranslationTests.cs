using static Xmbl.Cluster.Wasm.Tests.Execution.Harness;

namespace Xmbl.Cluster.Wasm.Tests.Execution;

/// <summary>
/// Function bodies are translated to IL on their first call. These tests pin down that laziness changes nothing
/// observable: results, traps, fuel and thread safety are the same whether or not a function was translated before.
/// </summary>
[Trait("Suite", "BVT")]
public sealed class LazyTranslationTests
{
    private const int HelperCount = 200;
    private const int ChainLength = 60;

    /// <summary>
    /// <c>HelperCount</c> helpers <c>h_k(x) = x * 3 + k</c> (in a table too) and <c>run(x) = h_3(x) + h_7(x) +
    /// call_indirect h_11(x)</c>.
    /// </summary>
    private static byte[] ManyHelpers()
    {
        var module = new TestModule();
        var helpers = new int[HelperCount];
        for (var k = 0; k < HelperCount; k++)
        {
            helpers[k] = module.Function(I32, I32, new Code().LocalGet(0).I32Const(3).Op(Ops.I32Mul).I32Const(k).Op(Ops.I32Add));
            module.Export("h" + k, helpers[k]);
        }

        module.Table(HelperCount).Elements(0, helpers);
        var helperType = module.Type(I32, I32);
        module.Export("run", module.Function(I32, I32, new Code()
            .LocalGet(0).Call(helpers[3])
            .LocalGet(0).Call(helpers[7]).Op(Ops.I32Add)
            .LocalGet(0).I32Const(11).CallIndirect(helperType).Op(Ops.I32Add)));
        return module.Build();
    }

    /// <summary><c>ChainLength</c> functions, each <c>c_i(x) = c_{i+1}(x + i)</c> with a loop, the last returning x; <c>run = c_0</c>.</summary>
    private static byte[] CallChain()
    {
        var module = new TestModule();
        var first = 0;
        for (var i = 0; i < ChainLength; i++)
        {
            // Functions are defined in order, so c_i calls index i + 1 (defined next); the last one just returns.
            var body = new Code()
                .Block().Loop()
                .LocalGet(1).I32Const(3).Op(0x4F /* i32.ge_u */).BrIf(1)
                .LocalGet(0).I32Const(i).Op(Ops.I32Add).LocalSet(0)
                .LocalGet(1).I32Const(1).Op(Ops.I32Add).LocalSet(1)
                .Br(0).End().End();
            body = i == ChainLength - 1 ? body.LocalGet(0) : body.LocalGet(0).Call(i + 1);
            var index = module.Function(I32, I32, body, WasmValueType.I32);
            if (i == 0)
            {
                first = index;
            }
        }

        module.Export("run", first);
        return module.Build();
    }

    private static int Expected(int x) => (3 * x) + 3 + (3 * x) + 7 + (3 * x) + 11;

    [Fact]
    public void Compile_TranslatesNoFunction_AndACallTranslatesOnlyWhatRuns()
    {
        var engine = new WasmEngine();
        var compiled = engine.Compile(ManyHelpers());
        Assert.Equal(0, compiled.Code.TranslatedCount);

        var instance = new Linker(engine).Instantiate(new Store(engine), compiled);
        Assert.Equal(0, compiled.Code.TranslatedCount);

        Assert.Equal(Expected(5), Call(instance, "run", I(5)).I32);
        Assert.Equal(4, compiled.Code.TranslatedCount); // run, h3, h7 and h11 (through the table)
        Assert.Equal(Expected(-9), Call(instance, "run", I(-9)).I32);
        Assert.Equal(4, compiled.Code.TranslatedCount);
    }

    [Fact]
    public void Exports_CalledBeforeAndAfterTranslation_GiveTheSameResults()
    {
        var engine = new WasmEngine();
        var compiled = engine.Compile(ManyHelpers());
        var first = new Linker(engine).Instantiate(new Store(engine), compiled);
        var second = new Linker(engine).Instantiate(new Store(engine), compiled);
        for (var k = 0; k < HelperCount; k += 7)
        {
            Assert.Equal((3 * 4) + k, Call(first, "h" + k, I(4)).I32);

            // The second instance was created before the translation; its export resolves on first use.
            Assert.Equal((3 * 4) + k, Call(second, "h" + k, I(4)).I32);
        }
    }

    [Fact]
    public void Fuel_IsIdenticalOnAFirstAndASecondRun()
    {
        var engine = new WasmEngine();
        var compiled = engine.Compile(CallChain());
        var (firstResult, firstFuel) = RunChain(engine, compiled);
        Assert.Equal(ChainLength, compiled.Code.TranslatedCount);
        var (secondResult, secondFuel) = RunChain(engine, compiled);
        Assert.Equal(firstResult, secondResult);
        Assert.Equal(firstFuel, secondFuel);
        Assert.True(firstFuel > 0);
    }

    [Fact]
    public void Fuel_IsIdenticalWhetherCalleesWereTranslatedBeforeOrAfterTheirCaller()
    {
        // Callers translated after their callees call them directly; callers translated first go through the entry
        // slots. Both must count the same fuel.
        var calleesFirst = new WasmEngine(new WasmEngineOptions { CompiledModuleCacheSize = 0 });
        var module = calleesFirst.Compile(ManyHelpers());
        var warm = new Linker(calleesFirst).Instantiate(new Store(calleesFirst), module);
        foreach (var k in new[] { 3, 7, 11 })
        {
            Call(warm, "h" + k, I(0));
        }

        var callerFirst = new WasmEngine(new WasmEngineOptions { CompiledModuleCacheSize = 0 });
        var direct = RunOnce(calleesFirst, module, "run", 21);
        var throughSlots = RunOnce(callerFirst, callerFirst.Compile(ManyHelpers()), "run", 21);
        Assert.Equal(Expected(21), direct.Result);
        Assert.Equal(direct, throughSlots);
    }

    [Fact]
    public void FirstCall_FromSeveralThreadsAtOnce_TranslatesEachFunctionOnceAndAllAgree()
    {
        const int threads = 6;
        var engine = new WasmEngine();
        var compiled = engine.Compile(CallChain());
        var results = new (int Result, long Fuel)[threads];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var store = new Store(engine);
            var instance = new Linker(engine).Instantiate(store, compiled);
            start.SignalAndWait();
            results[t] = (Call(instance, "run", I(t)).I32, store.FuelConsumed);
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Equal(ChainLength, compiled.Code.TranslatedCount);
        var sumOfIndices = ChainLength * (ChainLength - 1) / 2;
        for (var t = 0; t < threads; t++)
        {
            Assert.Equal(t + (3 * sumOfIndices), results[t].Result);
            Assert.Equal(results[0].Fuel, results[t].Fuel);
        }
    }

    [Fact]
    public void Instantiate_CreatesFunctionObjectsOnlyForExportsTablesAndRefFunc()
    {
        var engine = new WasmEngine();
        var instance = new Linker(engine).Instantiate(new Store(engine), engine.Compile(CallChain()));
        Assert.Single(instance.Context.Functions, f => f is not null); // "run"
        Assert.Same(instance.GetFunction("run"), instance.Context.GetFunction(0));

        Call(instance, "run", I(1));
        Assert.Single(instance.Context.Functions, f => f is not null); // direct calls need no Function objects

        var helpers = new Linker(engine).Instantiate(new Store(engine), engine.Compile(ManyHelpers()));
        Assert.All(helpers.Context.Functions, f => Assert.NotNull(f)); // all exported and in the table
        Assert.Same(helpers.GetFunction("h11"), helpers.Context.Tables[0].Elements[11]); // one object per function
    }

    [Fact]
    public void CallDepthCap_AppliesToLazilyTranslatedFunctions()
    {
        var engine = new WasmEngine();
        var compiled = engine.Compile(CallChain());
        var store = new Store(engine, new StoreLimitsBuilder().CallDepth(ChainLength / 2).Build());
        var instance = new Linker(engine).Instantiate(store, compiled);
        var trap = Assert.Throws<WasmTrapException>(() => Call(instance, "run", I(0)));
        Assert.Equal(TrapKind.CallStackExhausted, trap.Kind);

        var deepEnough = new Store(engine, new StoreLimitsBuilder().CallDepth(ChainLength * 2).Build());
        Assert.Equal(3 * (ChainLength * (ChainLength - 1) / 2), Call(new Linker(engine).Instantiate(deepEnough, compiled), "run", I(0)).I32);
    }

    private static (int Result, long Fuel) RunChain(WasmEngine engine, CompiledModule compiled) => RunOnce(engine, compiled, "run", 1);

    private static (int Result, long Fuel) RunOnce(WasmEngine engine, CompiledModule compiled, string export, int argument)
    {
        var store = new Store(engine);
        var instance = new Linker(engine).Instantiate(store, compiled);
        return (Call(instance, export, I(argument)).I32, store.FuelConsumed);
    }
}
