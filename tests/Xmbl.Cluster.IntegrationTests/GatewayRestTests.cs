using System.Net;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests;

/// <summary>The REST API's process-wide behaviour on a real silo: per-client rate limits and quiet request logging.</summary>
[Trait("Suite", "Functional")]
public sealed class GatewayRestTests : IDisposable
{
    private readonly TempDirectory _data = new("xmbl-rest");

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task ThousandRequestsBeyondTheRateLimit_Get429WithRetryAfter_WhileOtherClientsAndHealthChecksAreServed()
    {
        // A small bucket that refills slowly, so the flood stays beyond the limit for its whole length.
        await using var silo = await SiloProcess.StartAsync(_data.Path, "--Xmbl:Gateway:RateLimit:PermitsPerSecond", "1", "--Xmbl:Gateway:RateLimit:Burst", "20");
        using var flooder = new HttpClient { BaseAddress = silo.BaseAddress };

        var answers = new List<HttpStatusCode>();
        string? retryAfter = null;
        string? mediaType = null;
        string? body = null;
        var ok = 0;
        var limited = 0;
        // The limit first: the bucket holds 20 requests (plus what refills while they are sent).
        while (limited == 0 && ok < 100)
        {
            using var response = await flooder.GetAsync(new Uri("/api/cluster", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                ok++;
            }
            else
            {
                limited++;
            }
        }

        Assert.InRange(ok, 20, 40);
        for (var i = 0; i < 1000; i++)
        {
            using var response = await flooder.GetAsync(new Uri("/api/jobs", UriKind.Relative));
            answers.Add(response.StatusCode);
            if (i == 500)
            {
                retryAfter = response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                mediaType = response.Content.Headers.ContentType?.MediaType;
                body = await response.Content.ReadAsStringAsync();

                // Mid-flood: a signed client (another did:key, same address) and the health check still get through.
                using var other = await silo.As("alice").GetAsync(new Uri("/api/cluster", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, other.StatusCode);
                using var health = await flooder.GetAsync(new Uri("/healthz", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }
        }

        // One token a second refills over the flood: at most a few of the 1000 got through.
        Assert.True(answers.Count(s => s == HttpStatusCode.TooManyRequests) >= 990, $"429s: {answers.Count(s => s == HttpStatusCode.TooManyRequests)} of 1000");
        Assert.All(answers, s => Assert.Contains(s, new[] { HttpStatusCode.TooManyRequests, HttpStatusCode.OK }));
        Assert.Equal("1", retryAfter);
        Assert.Equal("application/problem+json", mediaType);
        Assert.Contains("\"status\":429", body, StringComparison.Ordinal);
        Assert.Contains("Xmbl:Gateway:RateLimit", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultSilo_LogsNoLinePerRequest_AndTheDocumentedSettingTurnsRequestLoggingUp()
    {
        // As a silo runs by default (the tests' processes otherwise start at Warning to keep their output short).
        await using (var quiet = await SiloProcess.StartAsync(_data.Path, "--Logging:LogLevel:Default", "Information"))
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await quiet.Unsigned.GetAsync(new Uri(i % 2 == 0 ? "/api/cluster" : "/api/jobs", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            await quiet.StopAsync();
            Assert.Contains("Application started", quiet.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Microsoft.AspNetCore.Hosting.Diagnostics", quiet.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Microsoft.AspNetCore.Routing", quiet.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Request starting", quiet.Output, StringComparison.Ordinal);
        }

        await using var loud = await SiloProcess.StartAsync(_data.Path, "--Logging:LogLevel:Default", "Information", "--Logging:LogLevel:Microsoft.AspNetCore", "Information");
        using (var response = await loud.Unsigned.GetAsync(new Uri("/api/cluster", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await loud.StopAsync();
        Assert.Contains("Request starting HTTP/1.1 GET", loud.Output, StringComparison.Ordinal);
    }
}
