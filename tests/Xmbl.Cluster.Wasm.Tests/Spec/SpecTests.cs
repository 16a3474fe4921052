using Xunit.Abstractions;

namespace Xmbl.Cluster.Wasm.Tests.Spec;

/// <summary>
/// The WebAssembly 2.0 spec test suite (wast2json output in shared/wasm-spec/json), one test per file: decode and
/// validation of every module, then full execution under fuel metering on and off. Fixed-width SIMD files are skipped
/// (the engine rejects SIMD); text-format <c>assert_malformed</c> cases are skipped (binary-only engine). Per-file counts
/// are written to TestResults/wasm-spec/ (see <see cref="SpecReport"/>).
/// </summary>
[Trait("Suite", "Spec")]
public sealed class SpecTests
{
    private readonly ITestOutputHelper _output;

    public SpecTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<string> SupportedFiles() => [.. SpecSuite.SupportedFiles()];

    public static TheoryData<string> SimdFiles() => [.. SpecSuite.SimdFiles()];

    public static TheoryData<string, bool> ExecutionCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var file in SpecSuite.SupportedFiles())
        {
            data.Add(file, true);
            data.Add(file, false);
        }

        return data;
    }

    [Fact]
    public void Suite_IsPresent_HasTheExpectedFiles()
    {
        SpecSuite.RequireJsonDirectory();
        Assert.Equal(146, SpecSuite.AllFiles().Count);
        Assert.Equal(56, SpecSuite.SimdFiles().Count);
    }

    [Theory]
    [MemberData(nameof(SupportedFiles))]
    public void Validation_SpecFile_AllBinaryModulesDecodeAndValidateAsExpected(string file)
    {
        var result = SpecValidationRunner.Run(SpecSuite.Load(file));
        Report(result);
        Assert.True(result.Failed == 0, result.Describe());
    }

    [Theory]
    [MemberData(nameof(ExecutionCases))]
    public void Execution_SpecFile_AllCommandsPass(string file, bool fuelMetering)
    {
        var result = SpecRunner.Run(SpecSuite.Load(file), fuelMetering);
        Report(result);
        Assert.True(result.Failed == 0, result.Describe());
    }

    /// <summary>
    /// SIMD files are not run. Each is still decoded: every module must either decode (it uses no SIMD) or be rejected
    /// with <see cref="WasmUnsupportedFeatureException"/> ("SIMD is not supported"), never with another error.
    /// </summary>
    [Theory]
    [MemberData(nameof(SimdFiles))]
    public void Simd_SpecFile_IsSkippedAndRejectedAsUnsupported(string file)
    {
        var spec = SpecSuite.Load(file);
        var unsupported = 0;
        foreach (var command in spec.Commands.Where(c => c.Type == "module"))
        {
            try
            {
                SpecValidationRunner.DecodeAndValidate(spec.ReadModule(command.FileName!));
            }
            catch (WasmUnsupportedFeatureException e)
            {
                Assert.Contains("SIMD is not supported", e.Message, StringComparison.Ordinal);
                unsupported++;
            }
        }

        _output.WriteLine($"{file}: skipped (SIMD not supported): {spec.Commands.Count} commands; {unsupported} modules rejected as SIMD");
        Assert.True(unsupported > 0, $"{file}: expected at least one module to use SIMD");
    }

    private void Report(SpecFileResult result)
    {
        _output.WriteLine(result.Describe());
        SpecReport.Write(result);
    }
}
