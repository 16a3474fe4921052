using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xmbl.Cluster.Gateway.Api;
using Xmbl.Cluster.Gateway.Network;
using Xmbl.Cluster.Gateway.Page;

namespace Xmbl.Cluster.Gateway.Tests;

/// <summary><c>GET /api/network/events</c> and the page's files on a real loopback Kestrel, with a fake source.</summary>
public sealed class NetworkEndpointsTests : IAsyncLifetime
{
    private readonly FakeNetworkSource _source = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["Xmbl:Gateway:Network:MaxStreams"] = "2";
        builder.Configuration["Xmbl:Gateway:Network:Heartbeat"] = "00:00:00.100";
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<INetworkSource>(_source);
        builder.Services.AddNetworkFeed();
        _app = builder.Build();
        _app.Use(_app.Services.GetRequiredService<NetworkPage>().InvokeAsync);
        _app.MapNetworkEndpoints();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    private NetworkFeed Feed => _app.Services.GetRequiredService<NetworkFeed>();

    [Fact]
    public async Task EventStream_SendsTheSnapshotAsServerSentEvents_ThenHeartbeatsWhileIdle()
    {
        using var response = await _http.GetAsync(new Uri("/api/network/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("no-cache", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (lines.Count(l => l == ": keep-alive") < 2)
        {
            lines.Add(await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("The stream ended: " + string.Join(" | ", lines)));
        }

        Assert.Equal("retry: 5000", lines[0]);
        var data = lines.IndexOf("event: cluster");
        Assert.True(data > 0, string.Join(" | ", lines));
        Assert.StartsWith("id: ", lines[data - 1], StringComparison.Ordinal);
        Assert.Equal("data: {\"silos\":1}", lines[data + 1]);
    }

    [Fact]
    public async Task EventStream_BeyondMaxStreams_Is503ProblemWithRetryAfter_AndTheClosedStreamsFreeTheirPlaces()
    {
        var open = new List<HttpResponseMessage>();
        for (var i = 0; i < 2; i++)
        {
            open.Add(await _http.GetAsync(new Uri("/api/network/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead));
            Assert.Equal(HttpStatusCode.OK, open[^1].StatusCode);
        }

        using (var refused = await _http.GetAsync(new Uri("/api/network/events", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
            Assert.Contains("Xmbl:Gateway:Network:MaxStreams", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter!.Delta);
        }

        foreach (var response in open)
        {
            response.Dispose();
        }

        await WaitUntilAsync(() => Feed.Subscribers == 0);
        using var again = await _http.GetAsync(new Uri("/api/network/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task EventStream_ClientDisconnecting_FreesItsStreamAndStopsTheSource()
    {
        var response = await _http.GetAsync(new Uri("/api/network/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await _source.Started.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, Feed.Subscribers);
        var stopped = _source.Stopped;

        response.Dispose();

        await stopped.WaitAsync(TimeSpan.FromSeconds(10));
        await WaitUntilAsync(() => Feed.Subscribers == 0);
        Assert.False(Feed.IsRunning);
    }

    [Fact]
    public async Task EventStream_WhenTheHostStops_EndsSoTheHostNeedNotWaitForIt()
    {
        using var response = await _http.GetAsync(new Uri("/api/network/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await _source.Started.WaitAsync(TimeSpan.FromSeconds(10));

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await _app.StopAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"Stopping took {stopping.Elapsed} with a stream open.");

        // The response was ended, not cut: the reader reaches its end.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await reader.ReadLineAsync(timeout.Token) is not null)
        {
        }

        Assert.Null(Feed.TrySubscribe());
    }

    [Fact]
    public async Task NetworkPage_IsServedWithItsContentTypesStrictCspAndCacheHeaders()
    {
        using var index = await _http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType!.MediaType);
        Assert.Equal(NetworkPage.ContentSecurityPolicy, index.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(index.Headers.CacheControl!.NoCache);
        var html = await index.Content.ReadAsStringAsync();
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        // The page names its files with a content hash: those URLs are cached for good; the page itself is revalidated.
        var script = System.Text.RegularExpressions.Regex.Match(html, "\"(/ui/network\\.js\\?v=[0-9a-f]{16})\"").Groups[1].Value;
        Assert.NotEmpty(script);
        using var js = await _http.GetAsync(new Uri(script, UriKind.Relative));
        Assert.Equal("text/javascript", js.Content.Headers.ContentType!.MediaType);
        Assert.True(js.Headers.CacheControl!.Public);
        Assert.Equal(TimeSpan.FromDays(365), js.Headers.CacheControl.MaxAge);
        using var css = await _http.GetAsync(new Uri("/ui/network.css", UriKind.Relative));
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
        Assert.True(css.Headers.CacheControl!.NoCache);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/");
        revalidate.Headers.IfNoneMatch.Add(index.Headers.ETag!);
        using var notModified = await _http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var other = await _http.GetAsync(new Uri("/ui/other.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 10 s.");
            await Task.Delay(20);
        }
    }
}
