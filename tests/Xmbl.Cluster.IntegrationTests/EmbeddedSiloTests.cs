using System.Text.Json;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests;

[Trait("Suite", "Functional")]
public sealed class EmbeddedSiloTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-silo");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task Silo_StartedWithNoConfiguration_ServesHealthAndListsItselfAndFiveLiveNodes()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path);

        var health = await silo.Http.GetStringAsync(new Uri("/healthz", UriKind.Relative));
        var cluster = await silo.GetJsonAsync("/api/cluster");

        Assert.Equal("ok", health);
        var silos = cluster.GetProperty("silos").EnumerateArray().ToList();
        var self = Assert.Single(silos);
        Assert.Equal("Active", self.GetProperty("status").GetString());
        Assert.Equal(cluster.GetProperty("localSiloId").GetString(), self.GetProperty("id").GetString());
        var nodes = cluster.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(5, nodes.Count);
        Assert.All(nodes, n =>
        {
            Assert.StartsWith("did:key:z6Mk", n.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal("alive", n.GetProperty("status").GetString());
            Assert.Equal("wasmtime", n.GetProperty("engine").GetString());
            Assert.Equal("50.0.1", n.GetProperty("engineVersion").GetString());
        });
        Assert.Equal(5, nodes.Select(n => n.GetProperty("id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Silo_OperatorFlags_AreAnnouncedByEveryNode()
    {
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2", "--cpu", "4", "--storage", "10GB", "--price", "0.05", "--gpu", "true", "--engine", "managed");

        var nodes = (await silo.GetJsonAsync("/api/cluster")).GetProperty("nodes").EnumerateArray().ToList();

        Assert.Equal(2, nodes.Count);
        Assert.All(nodes, n =>
        {
            Assert.Equal(2, n.GetProperty("cores").GetInt32());
            Assert.Equal(5_000_000_000L, n.GetProperty("storageBytes").GetInt64());
            Assert.Equal(0.05m, n.GetProperty("pricePerMillionFuel").GetDecimal());
            Assert.True(n.GetProperty("gpu").GetBoolean());
            Assert.Equal("managed", n.GetProperty("engine").GetString());
        });
    }

    [Fact]
    public async Task Silo_Restart_KeepsNodeIdentitiesAndRegistry()
    {
        IReadOnlyList<string?> before;
        await using (var first = await SiloProcess.StartAsync(_data.Path, "--nodes", "3"))
        {
            before = Ids(await first.GetJsonAsync("/api/cluster"));
            Assert.Equal(0, await first.StopAsync());
        }

        await using var second = await SiloProcess.StartAsync(_data.Path, "--nodes", "3");
        var cluster = await second.GetJsonAsync("/api/cluster");

        Assert.Equal(before, Ids(cluster));
        // Embedded mode clusters on localhost: the membership is this process's silo alone, a new one at each start,
        // and the nodes now name it as their host.
        var silo = Assert.Single(cluster.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
        Assert.All(cluster.GetProperty("nodes").EnumerateArray(), n => Assert.Equal(silo.GetProperty("id").GetString(), n.GetProperty("siloId").GetString()));
    }

    [Fact]
    public async Task Silo_CtrlC_ShutsDownCleanlyWithExitCodeZero()
    {
        var silo = await SiloProcess.StartAsync(_data.Path);

        var exitCode = await silo.StopAsync();
        await silo.DisposeAsync();

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task Silo_InvalidOption_ExitsNonZeroNamingTheKey()
    {
        await using var silo = SiloProcess.Launch(_data.Path, TcpPorts.Free(), "--nodes", "0");

        await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, silo.ExitCode);
        Assert.Contains("Xmbl:Node:Count", silo.Output, StringComparison.Ordinal);
    }

    private static IReadOnlyList<string?> Ids(JsonElement cluster) =>
        [.. cluster.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).Order(StringComparer.Ordinal)];
}
