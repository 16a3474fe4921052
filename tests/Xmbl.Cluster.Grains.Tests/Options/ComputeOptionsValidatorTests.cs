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
    };

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
}
