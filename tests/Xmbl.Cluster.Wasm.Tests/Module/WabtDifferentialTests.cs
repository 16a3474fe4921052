using System.Diagnostics;
using Xmbl.Cluster.Wasm.Tests.Spec;

namespace Xmbl.Cluster.Wasm.Tests.Module;

/// <summary>
/// Differential check of the decoder + validator against wabt's <c>wasm-validate</c> (Debian package <c>wabt</c>,
/// 1.0.32): mutants of the spec suite's modules must be accepted or rejected by both. SIMD mutants are excluded
/// (wabt supports SIMD, this engine rejects it on purpose).
/// </summary>
[Trait("Suite", "Functional")]
public sealed class WabtDifferentialTests
{
    private const int Seed = 1;
    private const int Mutants = 1_500;

    [Fact]
    public void Validate_MutatedSpecModules_AgreesWithWabt()
    {
        var tool = FindWasmValidate();
        Assert.True(tool is not null, "wasm-validate not found on PATH: install the Debian package 'wabt' (CI installs it)");
        var corpus = new List<byte[]>();
        foreach (var name in SpecSuite.SupportedFiles())
        {
            var file = SpecSuite.Load(name);
            corpus.AddRange(file.Commands.Where(c => c.Type == "module").Select(c => file.ReadModule(c.FileName!)));
        }

        var random = new Random(Seed);
        var path = Path.Combine(Path.GetTempPath(), $"xmbl-wabt-diff-{Environment.ProcessId}.wasm");
        var disagreements = new List<string>();
        var compared = 0;
        try
        {
            for (var i = 0; i < Mutants; i++)
            {
                var mutated = ModuleMutationTests.Mutate(corpus[random.Next(corpus.Count)], random);
                string? ours = null;
                try
                {
                    ModuleValidator.Validate(ModuleDecoder.Decode(mutated));
                }
                catch (WasmUnsupportedFeatureException)
                {
                    continue;
                }
                catch (WasmCompileException e)
                {
                    ours = e.Message;
                }

                File.WriteAllBytes(path, mutated);
                var (wabtValid, wabtMessage) = RunWasmValidate(tool!, path);
                compared++;
                if (wabtValid != (ours is null))
                {
                    disagreements.Add($"mutant {i}: ours {(ours is null ? "valid" : "rejected: " + ours)}; wabt {(wabtValid ? "valid" : "rejected: " + wabtMessage)}; {Convert.ToHexString(mutated)}");
                }
            }
        }
        finally
        {
            File.Delete(path);
        }

        Assert.True(compared > Mutants / 2, $"only {compared} mutants compared");
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements.Take(10)));
    }

    /// <summary>
    /// Type-level differential: in generated valid programs, one opcode is swapped for another with the same
    /// immediate format (numeric ops, local/global access, loads/stores, block kinds, branches), which mostly yields
    /// type errors; the verdict must match wabt's.
    /// </summary>
    [Fact]
    public void Validate_OpcodeSwappedPrograms_AgreesWithWabt()
    {
        var tool = FindWasmValidate();
        Assert.True(tool is not null, "wasm-validate not found on PATH: install the Debian package 'wabt' (CI installs it)");
        byte[][] classes =
        [
            [.. Enumerable.Range(0x45, 0xC4 - 0x45 + 1).Select(i => (byte)i), 0x00, 0x01, 0x0F, 0x1A, 0x1B, 0xD1],
            [0x20, 0x21, 0x22],
            [0x23, 0x24],
            [.. Enumerable.Range(0x28, 0x3E - 0x28 + 1).Select(i => (byte)i)],
            [0x02, 0x03, 0x04],
            [0x0C, 0x0D],
        ];
        var random = new Random(Seed);
        var path = Path.Combine(Path.GetTempPath(), $"xmbl-wabt-swap-{Environment.ProcessId}.wasm");
        var disagreements = new List<string>();
        int valid = 0, invalid = 0;
        try
        {
            for (var seed = 0; seed < 400; seed++)
            {
                var bytes = new RandomProgramGenerator(seed).Generate(helperFunctions: 3, runFunctions: 2);
                var sites = OpcodeSites(bytes, classes);
                var (offset, cls) = sites[random.Next(sites.Count)];
                bytes[offset] = classes[cls][random.Next(classes[cls].Length)];
                string? ours = null;
                try
                {
                    ModuleValidator.Validate(ModuleDecoder.Decode(bytes));
                    valid++;
                }
                catch (WasmCompileException e)
                {
                    ours = e.Message;
                    invalid++;
                }

                File.WriteAllBytes(path, bytes);
                var (wabtValid, wabtMessage) = RunWasmValidate(tool!, path);
                if (wabtValid != (ours is null))
                {
                    disagreements.Add($"program {seed}, byte {offset}: ours {(ours is null ? "valid" : "rejected: " + ours)}; wabt {(wabtValid ? "valid" : "rejected: " + wabtMessage)}");
                }
            }
        }
        finally
        {
            File.Delete(path);
        }

        Assert.True(valid > 0 && invalid > 0, $"{valid} valid, {invalid} invalid: the swaps do not exercise both outcomes");
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements.Take(10)));
    }

    private static List<(int Offset, int Class)> OpcodeSites(byte[] bytes, byte[][] classes)
    {
        var module = ModuleDecoder.Decode(bytes);
        var sites = new List<(int, int)>();
        foreach (var body in module.Functions)
        {
            var reader = new OperatorReader(body.Code.Span, body.CodeOffset);
            while (!reader.AtEnd)
            {
                reader.Read(out var op);
                var code = (ushort)op.Opcode;
                if (code > 0xFF)
                {
                    continue;
                }

                for (var c = 0; c < classes.Length; c++)
                {
                    if (Array.IndexOf(classes[c], (byte)code) >= 0)
                    {
                        sites.Add((body.CodeOffset + op.Offset, c));
                    }
                }
            }
        }

        return sites;
    }

    private static (bool Valid, string Message) RunWasmValidate(string tool, string path)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        stdout.Wait();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException("wasm-validate did not finish within 30 s");
        }

        return (process.ExitCode == 0, stderr.Split('\n')[0]);
    }

    private static string? FindWasmValidate()
    {
        var pathVariable = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return pathVariable.Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "wasm-validate"))
            .FirstOrDefault(File.Exists);
    }
}
