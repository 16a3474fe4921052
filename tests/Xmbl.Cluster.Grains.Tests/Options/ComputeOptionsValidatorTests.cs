using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Tests.Options;

[Trait("Suite", "BVT")]
public sealed class ComputeOptionsValidatorTests
{
    private readonly ComputeOptionsValidator _validator = new();

    [Fact]
    public void Defaults_AreValid() => Assert.True(_validator.Validate(null, new ComputeOptions()).Succeeded);

    [Theory]
    [InlineData(nameof(ComputeOptions.StuckRunGrace))]
    [InlineData(nameof(ComputeOptions.MaxStuckRuns))]
    [InlineData(nameof(ComputeOptions.RunMemoryOverheadBytes))]
    [InlineData(nameof(ComputeOptions.PoisonAfterRestarts))]
    [InlineData(nameof(ComputeOptions.NodeTimeBudget))]
    public void OutOfRangeHardeningLimit_IsRefusedNamingItsKey(string key)
    {
        var options = new ComputeOptions();
        switch (key)
        {
            case nameof(ComputeOptions.StuckRunGrace): options.StuckRunGrace = TimeSpan.Zero; break;
            case nameof(ComputeOptions.MaxStuckRuns): options.MaxStuckRuns = -1; break;
            case nameof(ComputeOptions.RunMemoryOverheadBytes): options.RunMemoryOverheadBytes = -1; break;
            case nameof(ComputeOptions.PoisonAfterRestarts): options.PoisonAfterRestarts = 0; break;
            default: options.NodeTimeBudget = 2; break;
        }

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Xmbl:Compute:{key}", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void NoStuckRunsAllowed_NoOverhead_AndTheSmallestBudgets_AreValid()
    {
        var options = new ComputeOptions { MaxStuckRuns = 0, RunMemoryOverheadBytes = 0, PoisonAfterRestarts = 1, NodeTimeBudget = 3 };

        Assert.True(_validator.Validate(null, options).Succeeded);
    }
}
