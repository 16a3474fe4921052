using System.Globalization;
using Xmbl.Cluster.Grains.Options;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>deploy/systemd: the unit's limits match what its environment file makes the silo announce.</summary>
public sealed class SystemdUnitTests
{
    private static readonly Dictionary<string, string> Unit = Read("deploy/systemd/xmbl-silo.service");
    private static readonly Dictionary<string, string> Environment = Read("deploy/systemd/silo.env");

    [Fact]
    public void SiloUnit_RunsTheSiloAsADedicatedUser_RestartingOnFailureButNotOnABadConfiguration()
    {
        Assert.Equal("xmbl", Unit["User"]);
        Assert.Equal("on-failure", Unit["Restart"]);
        Assert.Equal("2", Unit["RestartPreventExitStatus"]);
        Assert.EndsWith("/Xmbl.Cluster.Silo.dll", Unit["ExecStart"], StringComparison.Ordinal);
        Assert.Equal("XMBL_DATA=/var/lib/" + Unit["StateDirectory"], Unit["Environment"]);
        Assert.Equal("/var/lib/" + Unit["StateDirectory"], Unit["ReadWritePaths"]);
    }

    [Fact]
    public void SiloUnit_CpuAndMemoryLimits_MatchTheAnnouncedResources()
    {
        var cores = int.Parse(Environment["XMBL_CPU"], CultureInfo.InvariantCulture);
        var announcedMemory = ByteSize.Parse(Environment["XMBL_MEMORY"]);
        var limit = ByteSize.Parse(Unit["MemoryMax"]);

        Assert.Equal($"{cores * 100}%", Unit["CPUQuota"]);
        // The jobs' memory plus room for the runtime and shard streams, no more than 2 GiB of it.
        Assert.InRange(limit - announcedMemory, 512L << 20, 2L << 30);
    }

    [Fact]
    public void SiloEnvironmentFile_SetsOnlyVariablesTheSiloReads_AndTheThreeThatJoinACluster()
    {
        foreach (var variable in Environment.Keys)
        {
            Assert.True(ConfigurationKeys.IsKnownVariable(variable, ConfigurationKeys.SiloSwitches), $"silo.env sets {variable}, which the silo does not read");
        }

        Assert.Contains("XMBL_POSTGRES", Environment.Keys);
        Assert.Contains("XMBL_CLUSTER_SECRET", Environment.Keys);
        Assert.Contains("XMBL_CLUSTER_ID", Environment.Keys);
    }

    private static Dictionary<string, string> Read(string path)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Repository.PathOf(path)).Select(l => l.Trim()))
        {
            if (line.Length == 0 || line[0] is '#' or '[')
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            settings[line[..eq]] = line[(eq + 1)..];
        }

        return settings;
    }
}
