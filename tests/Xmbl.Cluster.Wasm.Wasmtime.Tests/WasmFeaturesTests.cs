using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Wasm.Wasmtime.Tests;

/// <summary>Which optional features a module uses and which engines run them: what SIMD scheduling relies on.</summary>
public sealed class WasmFeaturesTests
{
    [Fact]
    public void UsedBy_ACProgramBuiltWithSimd_NamesSimd_AndOnlyWasmtimeRunsIt()
    {
        var wasm = EngineHarness.Fixture("simd");

        Assert.Equal([WasmFeatures.Simd], WasmFeatures.UsedBy(wasm));
        Assert.Equal([WasmFeatures.Simd], EngineHarness.Wasmtime.Features);
        Assert.Empty(EngineHarness.Managed.Features);
        var run = EngineHarness.Run(EngineHarness.Wasmtime, wasm);
        Assert.Equal("simd sum 524800\n", run.Stdout);
        Assert.Throws<WasmModuleRejectedException>(() => EngineHarness.Managed.Compile(wasm));
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("files")]
    [InlineData("exports")]
    public void UsedBy_APlainWebAssembly2Module_NamesNone(string fixture) =>
        Assert.Empty(WasmFeatures.UsedBy(EngineHarness.Fixture(fixture)));

    [Fact]
    public void UsedBy_BytesThatAreNoModule_NamesNone_SoCompilingReportsTheRealError() =>
        Assert.Empty(WasmFeatures.UsedBy(new byte[] { 0x00, 0x61, 0x73, 0x6D, 0x02 }));

    [Theory]
    [InlineData(null, null, null)]
    [InlineData(new[] { "simd" }, new[] { "simd" }, null)]
    [InlineData(new[] { "simd" }, new string[0], "simd")]
    [InlineData(new[] { "simd" }, null, "simd")]
    public void FirstMissing_NamesTheFirstRequiredFeatureTheEngineLacks(string[]? required, string[]? supported, string? missing) =>
        Assert.Equal(missing, WasmFeatures.FirstMissing(required, supported));
}
