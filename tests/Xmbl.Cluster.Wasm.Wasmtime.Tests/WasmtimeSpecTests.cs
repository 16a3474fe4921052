namespace Xmbl.Cluster.Wasm.Wasmtime.Tests;

/// <summary>
/// The WebAssembly 2.0 spec suite, the 56 fixed-width SIMD files included, on Wasmtime with the configuration of
/// <see cref="WasmtimeEngine"/> (NaN canonicalization on, proposals beyond 2.0 + SIMD off): whatever the settings change,
/// the suite's results must not.
/// </summary>
[Trait("Suite", "Spec")]
public sealed class WasmtimeSpecTests
{
    public static TheoryData<string> Files() => [.. FileNames()];

    [Fact]
    public void Suite_IsPresent_WithItsSimdFiles()
    {
        var files = FileNames();

        Assert.Equal(146, files.Count);
        Assert.Equal(56, files.Count(f => f.StartsWith("simd_", StringComparison.Ordinal)));
    }

    /// <summary>Every file of the suite; a placeholder that fails with the locator's message when it is missing.</summary>
    private static List<string> FileNames()
    {
        var suite = WasmtimeSpecRunner.SuiteDirectory();
        return suite is null
            ? ["(spec suite missing)"]
            : [.. Directory.GetDirectories(suite).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void SpecFile_OnOurWasmtimeConfiguration_AllCommandsPass(string file)
    {
        using var run = WasmtimeSpecRunner.Run(file);

        Assert.True(run.Failures.Count == 0, $"{file}: {run.Failures.Count} failed, {run.Passed} passed:\n" + string.Join("\n", run.Failures.Take(20)));
        // Two files (token, utf8-invalid-encoding) hold text-format modules only, all skipped.
        Assert.True(run.Passed + run.Skipped > 0, $"{file}: no commands");
    }
}
