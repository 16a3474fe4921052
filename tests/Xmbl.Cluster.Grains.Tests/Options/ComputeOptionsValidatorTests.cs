using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Tests.Options;

[Trait("Suite", "BVT")]
public sealed class ComputeOptionsValidatorTests
{
    [Fact]
    public void Defaults_AreValid_WithTenMinuteDeadlinesAndHalfLife()
    {
        var options = new ComputeOptions();

        Assert.True(new ComputeOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(
            (TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), 2),
            (options.RoleWaitTimeout, options.SettleTimeout, options.ReputationHalfLife, options.SameFailureNodes));
    }

    public static TheoryData<string, Action<ComputeOptions>> Invalid => new()
    {
        { "Xmbl:Compute:RoleWaitTimeout", o => o.RoleWaitTimeout = TimeSpan.Zero },
        { "Xmbl:Compute:SettleTimeout", o => o.SettleTimeout = TimeSpan.FromSeconds(-1) },
        { "Xmbl:Compute:SameFailureNodes", o => o.SameFailureNodes = 1 },
        { "Xmbl:Compute:ReputationHalfLife", o => o.ReputationHalfLife = TimeSpan.Zero },
        { "Xmbl:Compute:StuckRunGrace", o => o.StuckRunGrace = TimeSpan.Zero },
        { "Xmbl:Compute:MaxStuckRuns", o => o.MaxStuckRuns = -1 },
        { "Xmbl:Compute:RunMemoryOverheadBytes", o => o.RunMemoryOverheadBytes = -1 },
        { "Xmbl:Compute:PoisonAfterRestarts", o => o.PoisonAfterRestarts = 0 },
        { "Xmbl:Compute:NodeTimeBudget", o => o.NodeTimeBudget = 2 },
        { "Xmbl:Compute:Engine", o => o.Engine = "v8" },
    };

    [Fact]
    public void NoStuckRunsAllowed_NoOverhead_AndTheSmallestBudgets_AreValid()
    {
        var options = new ComputeOptions { MaxStuckRuns = 0, RunMemoryOverheadBytes = 0, PoisonAfterRestarts = 1, NodeTimeBudget = 3 };

        Assert.True(new ComputeOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void NewDeadlineAndRecoveryKnobs_OutOfRange_AreRefusedNamingTheKey(string key, Action<ComputeOptions> change)
    {
        var options = new ComputeOptions();
        change(options);

        var result = new ComputeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_TheJobBodyLimitFitsTheLargestInlineModule()
    {
        var options = new ComputeOptions();

        Assert.True(new ComputeOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(options.MaxJobRequestBytes >= ComputeOptionsValidator.MinJobRequestBytes(options));
        // 32 MiB in base64 is 44,739,244 bytes.
        Assert.True(options.MaxJobRequestBytes > 44_739_244);
    }

    [Fact]
    public void JobBodyLimit_TooSmallForTheModuleLimit_IsRefusedNamingBothKeys()
    {
        var result = new ComputeOptionsValidator().Validate(null, new ComputeOptions { MaxModuleBytes = 64 << 20 });

        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Compute:MaxJobRequestBytes", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Xmbl:Compute:MaxModuleBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(ComputeOptions.MaxArgs))]
    [InlineData(nameof(ComputeOptions.MaxArgsBytes))]
    [InlineData(nameof(ComputeOptions.MaxEnvVars))]
    [InlineData(nameof(ComputeOptions.MaxEnvBytes))]
    [InlineData(nameof(ComputeOptions.MaxEntryLength))]
    public void NegativeSizeLimit_IsRefusedNamingTheKey(string key)
    {
        var options = new ComputeOptions();
        typeof(ComputeOptions).GetProperty(key)!.SetValue(options, -1);

        var result = new ComputeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Compute:" + key, result.FailureMessage, StringComparison.Ordinal);
    }
}
