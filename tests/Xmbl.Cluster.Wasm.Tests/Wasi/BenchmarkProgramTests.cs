namespace Xmbl.Cluster.Wasm.Tests.Wasi;

/// <summary>The benchmark programs (bench/programs, clang -O2 + wasi-libc) at small sizes: the engine must print
/// exactly what the same C code prints natively (expected lines recorded from the native -O2 builds).</summary>
[Trait("Suite", "Functional")]
public sealed class BenchmarkProgramTests
{
    public static TheoryData<string, string, string> Programs() => new()
    {
        { "fib", "25", "fib(25) = 75025\n" },
        { "sha256", "1", "sha256(1 MiB) = 1b012fd5fcad6779b99ab7b2b98446a128ea569ed6fd89a944c8ee0b5ba7198a\n" },
        { "nbody", "1000", "-0.169075164\n-0.169087605\n" },
        { "matmul", "64", "n=64 sum=2.422268 c[n/2][n/3]=-0.214132\n" },
        { "sieve", "100000", "primes <= 100000: 9592, largest 99991\n" },
        { "sort", "10000", "n=10000 qsort=1073372888143606883 merge=1073372888143606883\n" },
        { "hashmap", "20000", "ops=20000 size=5167 hits=1600 checksum=10402221482229674155\n" },
        { "malloc", "20000", "rounds=20000 checksum=20780936\n" },
    };

    [Theory]
    [MemberData(nameof(Programs))]
    public void BenchmarkProgram_SmallInput_MatchesNativeOutput(string program, string argument, string expected)
    {
        var path = Path.Combine(WasiFixtures.RepositoryRoot, "bench", "programs", "wasm", program + ".wasm");
        var module = WasiFixtures.Engine.Compile(File.ReadAllBytes(path));

        var run = WasiFixtures.Run(module, program, null, null, argument);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(expected, run.StdoutText);
    }

    [Fact]
    public void BenchmarkProgram_SameInputTwice_UsesIdenticalFuel()
    {
        var path = Path.Combine(WasiFixtures.RepositoryRoot, "bench", "programs", "wasm", "hashmap.wasm");
        var module = WasiFixtures.Engine.Compile(File.ReadAllBytes(path));

        var first = WasiFixtures.Run(module, "hashmap", c => c.MakeDeterministic(7), null, "5000");
        var second = WasiFixtures.Run(module, "hashmap", c => c.MakeDeterministic(7), null, "5000");

        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Equal(first.Fuel, second.Fuel);
    }
}
