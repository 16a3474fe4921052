using System.Net;
using Xmbl.Cluster.Grains.Jobs;

namespace Xmbl.Cluster.Grains.Tests.Jobs;

/// <summary>Which silo runs the cluster's periodic and silo-loss job sweeps: exactly one of the active ones.</summary>
public sealed class JobSweeperTests
{
    private static readonly SiloAddress A = Silo(11111);
    private static readonly SiloAddress B = Silo(11112);
    private static readonly SiloAddress C = Silo(11113);

    [Fact]
    public void Of_several_active_silos_exactly_one_sweeps_the_lowest_address()
    {
        var members = new[] { (C, SiloStatus.Active), (A, SiloStatus.Active), (B, SiloStatus.Active) };

        Assert.Equal([A], new[] { A, B, C }.Where(s => JobSweeper.IsSweeper(members, s)));
    }

    [Fact]
    public void When_the_sweeper_is_dead_or_leaving_the_next_lowest_active_silo_sweeps()
    {
        Assert.True(JobSweeper.IsSweeper([(A, SiloStatus.Dead), (B, SiloStatus.Active), (C, SiloStatus.Active)], B));
        Assert.True(JobSweeper.IsSweeper([(A, SiloStatus.ShuttingDown), (B, SiloStatus.Active)], B));
        Assert.False(JobSweeper.IsSweeper([(A, SiloStatus.Dead), (B, SiloStatus.Active), (C, SiloStatus.Active)], C));
    }

    [Fact]
    public void A_silo_alone_or_not_yet_in_its_own_view_sweeps()
    {
        Assert.True(JobSweeper.IsSweeper([], B));
        Assert.True(JobSweeper.IsSweeper([(C, SiloStatus.Active)], B));
    }

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);
}
