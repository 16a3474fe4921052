using Xmbl.Cluster.Storage.Options;

namespace Xmbl.Cluster.Storage.Tests.Options;

public sealed class StorageOptionsValidatorTests
{
    [Fact]
    [Trait("Suite", "BVT")]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(new StorageOptionsValidator().Validate(null, new StorageOptions()).Succeeded);
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void Validate_BadValues_NameKeyAndFix()
    {
        var options = new StorageOptions { DataShards = 0, ParityShards = 0, ShardSize = 10, StripesInFlight = 1, NodeId = "bad id" };
        options.Volumes.Add(new StorageVolumeOptions { Name = "a", Path = "" });
        options.Volumes.Add(new StorageVolumeOptions { Name = "a", Path = "/x" });

        var result = new StorageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToArray();
        Assert.Contains(failures, f => f.Contains("Xmbl:Storage:DataShards", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Xmbl:Storage:ParityShards", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Xmbl:Storage:ShardSize", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Xmbl:Storage:StripesInFlight", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Xmbl:Storage:NodeId", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Xmbl:Storage:Volumes:0:Path", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("used twice", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Suite", "BVT")]
    public void TransportOptions_ShortSecret_FailsAndToStringRedacts()
    {
        var options = new ShardTransportOptions { ClusterSecret = "short" };
        var result = new ShardTransportOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Xmbl:Storage:Transport:ClusterSecret", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("short", options.ToString(), StringComparison.Ordinal);
    }
}
