using System.Globalization;
using System.Net;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Services;

/// <summary><c>Xmbl:Services:Package:*</c> set in a silo's configuration take effect, and bad values stop it at start.</summary>
[Trait("Suite", "Functional")]
public sealed class PackageLimitsConfigurationTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-package-limits");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task ConfiguredMaxPackageBytes_RefusesALargerPackageWith413NamingTheKey_AndPublishesOneWithinIt()
    {
        var small = ServiceLibraryTests.Package("limits-author", "org.example.small");
        // Random text does not compress, so this package is larger than the small one by about its length. Both stay
        // small: the server answers 413 without reading the body, which must not be cut off while still being sent.
        var large = ServiceLibraryTests.Package("limits-author", "org.example.large", Convert.ToBase64String(RandomBytes(1500)));
        var limit = large.Length - 1;
        Assert.True(small.Length <= limit, $"the small package has {small.Length} bytes, the large one {large.Length}");
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "3", "--Xmbl:Services:Package:MaxPackageBytes", limit.ToString(CultureInfo.InvariantCulture));

        // The refused one last: the server closes the connection after a 413 with an unread body.
        using var published = await silo.As("limits-author").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(small));
        using var refused = await silo.As("limits-author").PostAsync(new Uri("/api/services", UriKind.Relative), new ByteArrayContent(large));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"the limit is {limit} (Xmbl:Services:Package:MaxPackageBytes)", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Unsigned.GetAsync(new Uri("/api/services/org.example.large/1.0.0", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task MaxEntriesBelowTwo_StopsTheSiloAtStartWithExitCode2_NamingTheKey()
    {
        await using var silo = SiloProcess.Launch(_data.Path, TcpPorts.Free(), "--Xmbl:Services:Package:MaxEntries", "1");

        await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, silo.ExitCode);
        Assert.Contains("Xmbl:Services:Package:MaxEntries must be at least 2", silo.Output, StringComparison.Ordinal);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(5).NextBytes(bytes);
        return bytes;
    }
}
