using System.Net;
using System.Text.Json;
using Xmbl.Cluster.Identity.Requests;
using Xmbl.Cluster.Testing.Processes;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.IntegrationTests.Accounts;

/// <summary>A silo started with <c>--trust-loopback</c> (a bare flag) and an operator named by <c>--operator-did</c>.</summary>
public sealed class TrustingSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("xmbl-trusting");

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Silo = await SiloProcess.StartAsync(_data.Path, "--nodes", "2", "--operator-did", TestAccounts.Did("ops"), "--trust-loopback");

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>The operator named in configuration, and loopback trust for development.</summary>
[Trait("Suite", "Functional")]
public sealed class OperatorTests(TrustingSiloFixture fixture) : IClassFixture<TrustingSiloFixture>
{
    private SiloProcess Silo => fixture.Silo;

    [Fact]
    public async Task TrustLoopback_UnsignedChangesFromLoopback_ActAsTheConfiguredOperator()
    {
        using var put = await Silo.Unsigned.PutAsync(new Uri("/api/objects/dev/a.txt", UriKind.Relative), new StringContent("dev"));
        var created = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
        var node = (await Silo.GetJsonAsync("/api/cluster")).GetProperty("nodes")[0].GetProperty("id").GetString()!;
        using var stop = await Silo.Unsigned.PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var start = await Silo.Unsigned.PostAsync(new Uri($"/api/nodes/{node}/start", UriKind.Relative), null);
        using var repair = await Silo.Unsigned.PostAsync(new Uri("/api/storage/repair", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(TestAccounts.Did("ops"), created.GetProperty("owner").GetString());
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repair.StatusCode);
    }

    [Fact]
    public async Task TrustLoopback_SignedRequestsAreStillChecked_AndActAsTheirSigner()
    {
        using var signed = await Silo.As("carol").PutAsync(new Uri("/api/objects/dev/carol.txt", UriKind.Relative), new StringContent("carol"));
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri("/api/objects/dev/forged.txt", UriKind.Relative)) { Content = new StringContent("x") };
        request.Headers.TryAddWithoutValidation(RequestSignature.SignatureHeader, new string('0', 128));
        using var forged = await Silo.Unsigned.SendAsync(request);

        Assert.Equal(TestAccounts.Did("carol"), JsonDocument.Parse(await signed.Content.ReadAsStringAsync()).RootElement.GetProperty("owner").GetString());
        await SignedRequestTests.AssertRefusedAsync(forged, "missing", RequestSignature.IdentityHeader);
    }

    [Fact]
    public async Task TheConfiguredOperatorStopsNodes_TheSilosOwnKeyNoLonger()
    {
        var node = (await Silo.GetJsonAsync("/api/cluster")).GetProperty("nodes")[1].GetProperty("id").GetString()!;

        using var ownKey = await Silo.Operator.PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var configured = await Silo.As("ops").PostAsync(new Uri($"/api/nodes/{node}/stop", UriKind.Relative), null);
        using var restarted = await Silo.As("ops").PostAsync(new Uri($"/api/nodes/{node}/start", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Forbidden, ownKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, configured.StatusCode);
        Assert.Equal(HttpStatusCode.OK, restarted.StatusCode);
    }
}

/// <summary>Bad gateway settings stop the silo at start, naming the key.</summary>
[Trait("Suite", "Functional")]
public sealed class GatewayConfigurationTests
{
    [Theory]
    [InlineData("--operator-did", "did:key:not-a-key", "Xmbl:Gateway:Operator")]
    [InlineData("--Xmbl:Gateway:MaxClockSkew", "00:00:00", "Xmbl:Gateway:MaxClockSkew")]
    [InlineData("--Xmbl:Gateway:ReplayCacheEntries", "0", "Xmbl:Gateway:ReplayCacheEntries")]
    public async Task InvalidSetting_StopsTheSiloWithExitCode2_NamingTheKey(string option, string value, string key)
    {
        using var data = new TempDirectory("xmbl-badgateway");
        await using var silo = SiloProcess.Launch(data.Path, TcpPorts.Free(), option, value);

        await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, silo.ExitCode);
        Assert.Contains(key, silo.Output, StringComparison.Ordinal);
    }
}
