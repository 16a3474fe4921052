using System.Security.Cryptography;
using Xmbl.Cluster.Grains.Interfaces.Jobs;
using Xmbl.Cluster.Grains.Jobs.Execution;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

[Trait("Suite", "BVT")]
public sealed class ResultHashTests
{
    [Fact]
    public void Compute_IsSha256OfOutputExitCodeFuelAndOutcomeLittleEndian()
    {
        byte[] expectedInput = [(byte)'h', (byte)'i', 7, 0, 0, 0, 0x10, 0x27, 0, 0, 0, 0, 0, 0, (byte)RunOutcome.Exited];

        var hash = ResultHash.Compute("hi"u8, 7, 10_000, RunOutcome.Exited);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expectedInput)), hash);
    }

    [Fact]
    public void Compute_AnyDifferenceChangesTheHash()
    {
        var baseline = ResultHash.Compute("out"u8, 0, 100, RunOutcome.Exited);

        Assert.NotEqual(baseline, ResultHash.Compute("Out"u8, 0, 100, RunOutcome.Exited));
        Assert.NotEqual(baseline, ResultHash.Compute("out"u8, 1, 100, RunOutcome.Exited));
        Assert.NotEqual(baseline, ResultHash.Compute("out"u8, 0, 101, RunOutcome.Exited));
        Assert.NotEqual(baseline, ResultHash.Compute("out"u8, 0, 100, RunOutcome.Trapped));
    }
}
