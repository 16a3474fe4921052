using Xmbl.Cluster.Grains.Jobs.Options;

namespace Xmbl.Cluster.Grains.Tests.Options;

public sealed class ComputeOptionsValidatorTests
{
    [Fact]
    public void Defaults_AreValid_AndTheJobBodyLimitFitsTheLargestInlineModule()
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
