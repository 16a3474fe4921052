using System.Text;
using System.Text.Json;
using Xmbl.Cluster.Wasm.Engines.Managed;

namespace Xmbl.Cluster.Services.Tests;

/// <summary>The runner on the managed engine (the seam's second engine: no native library needed).</summary>
public sealed class ServiceRunnerTests : IDisposable
{
    private readonly ManagedWasmEngine _engine = new();
    private readonly byte[] _module = File.ReadAllBytes(Fixtures.Wasm("service_upper"));

    private static readonly ServiceManifest Manifest = Fixtures.Manifest(Fixtures.Author().PublicKey.Did) with
    {
        Inputs = [new ServiceInput { Name = "text", Type = ServiceValueType.String }, new ServiceInput { Name = "repeat", Type = ServiceValueType.Integer, Required = false }],
    };

    public void Dispose() => _engine.Dispose();

    private ServiceRunResult Run(ServiceManifest manifest, string inputs, ServiceRunOptions? options = null)
    {
        using var document = JsonDocument.Parse(inputs);
        Assert.True(TaskInputs.TryCreate(manifest, document.RootElement, 1 << 20, out var taskInputs, out _));
        return ServiceRunner.Run(_engine, manifest, _module, taskInputs, options ?? new ServiceRunOptions());
    }

    [Fact]
    public void Module_ReadsInputAndWritesItsOutput()
    {
        var result = Run(Manifest, """{"text":"abc","repeat":2}""");

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal("ABCABC", Encoding.UTF8.GetString(result.Outputs["result"]));
        Assert.Equal("wrote 6 bytes\n", Encoding.UTF8.GetString(result.Stdout));
    }

    [Fact]
    public void SameSeed_SameFuel()
    {
        Assert.Equal(Run(Manifest, """{"text":"abc"}""").FuelConsumed, Run(Manifest, """{"text":"abc"}""").FuelConsumed);
    }

    [Fact]
    public void MissingDeclaredOutput_IsAProblem()
    {
        var manifest = Manifest with { Outputs = [.. Manifest.Outputs, new ServiceOutput { Name = "summary", Type = ServiceValueType.Json }] };

        var result = Run(manifest, """{"text":"abc"}""");

        Assert.False(result.Succeeded);
        Assert.Contains("the module did not write /output/summary", result.Problems);
    }

    [Fact]
    public void UndeclaredOutput_IsAProblem()
    {
        var manifest = Manifest with { Outputs = [new ServiceOutput { Name = "other", Type = ServiceValueType.File }] };

        var result = Run(manifest, """{"text":"abc"}""");

        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.Contains("/output/result, which is not an output", StringComparison.Ordinal));
    }

    [Fact]
    public void OutputOverTheCap_FailsTheRun()
    {
        var result = Run(Manifest, """{"text":"abcdefgh","repeat":100}""", new ServiceRunOptions { MaxOutputBytes = 100 });

        Assert.False(result.Succeeded);
    }

    [Fact]
    public void FuelExhausted_IsATrapProblem()
    {
        var result = Run(Manifest, """{"text":"abc"}""", new ServiceRunOptions { Fuel = 100 });

        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.Contains("trapped (OutOfFuel)", StringComparison.Ordinal));
    }
}
