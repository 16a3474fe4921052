using System.Net;
using Xmbl.Cluster.IntegrationTests.Support;

namespace Xmbl.Cluster.IntegrationTests.Jobs;

/// <summary><c>POST /api/modules</c> reads bodies up to Xmbl:Compute:MaxModuleBytes (32 MiB) and refuses larger ones with 413.</summary>
[Trait("Suite", "Functional")]
public sealed class ModuleUploadTests(ApiSiloFixture fixture) : IClassFixture<ApiSiloFixture>
{
    private const int MaxModuleBytes = 32 << 20;

    [Fact]
    public async Task Upload_OverKestrelsDefaultButWithinMaxModuleBytes_IsJudgedAsAModule()
    {
        // 31,000,000 bytes: over Kestrel's default 30,000,000-byte request limit, under the 32 MiB module limit.
        using var content = new ByteArrayContent(new byte[31_000_000]);
        using var response = await fixture.Silo.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), content);
        var problem = await SubmissionValidationTests.ProblemAsync(response, HttpStatusCode.BadRequest);

        Assert.StartsWith("Not a valid WebAssembly module", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MaxModuleBytes + 1L)]
    [InlineData(2L << 30)]
    public async Task Upload_DeclaredLengthOverMaxModuleBytes_Answers413BeforeTheBodyIsSent(long declared)
    {
        var response = await RawHttp.SendAsync(
            fixture.Silo.BaseAddress,
            $"POST /api/modules HTTP/1.1\r\nContent-Type: application/wasm\r\nContent-Length: {declared}" + RawHttp.Signed("POST", "/api/modules"),
            timeout: TimeSpan.FromSeconds(10));

        Assert.Equal(413, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Contains("Xmbl:Compute:MaxModuleBytes", response.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_ChunkedOverMaxModuleBytes_Answers413()
    {
        var response = await RawHttp.SendAsync(
            fixture.Silo.BaseAddress,
            "POST /api/modules HTTP/1.1\r\nContent-Type: application/wasm\r\nTransfer-Encoding: chunked" + RawHttp.Signed("POST", "/api/modules"),
            (stream, ct) => RawHttp.WriteChunkedAsync(stream, MaxModuleBytes + (1 << 20), ct));

        Assert.Equal(413, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
    }
}
