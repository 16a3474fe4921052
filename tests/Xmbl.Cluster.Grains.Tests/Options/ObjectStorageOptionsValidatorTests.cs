using Xmbl.Cluster.Grains.Options;

namespace Xmbl.Cluster.Grains.Tests.Options;

public sealed class ObjectStorageOptionsValidatorTests
{
    [Fact]
    public void Defaults_AreValid_WithAnHourOfOrphanGrace()
    {
        var options = new ObjectStorageOptions();

        Assert.True(new ObjectStorageOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromHours(1), options.OrphanGracePeriod);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    public void OrphanGracePeriod_NotPositive_IsRefusedNamingTheKey(string value)
    {
        var result = new ObjectStorageOptionsValidator().Validate(null, new ObjectStorageOptions { OrphanGracePeriod = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Storage:OrphanGracePeriod", result.FailureMessage, StringComparison.Ordinal);
    }
}
