using Xmbl.Cluster.Wasm.Tests.Spec;

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
        Assert.True(outcomes[1] > Mutations / 4, $"only {outcomes[1]} of {Mutations} mutations were rejected");
        Assert.True(outcomes[0] > 0, "no mutation stayed valid: the corpus or the mutator is broken");
    }

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
