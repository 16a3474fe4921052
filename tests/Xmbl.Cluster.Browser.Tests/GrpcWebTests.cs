using Microsoft.Playwright;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Browser.Tests;

/// <summary>gRPC-Web from a real browser page: Chromium calls the gateway's HTTP port from another origin (CORS).</summary>
[Collection(ChromiumCollection.Name)]
public sealed class GrpcWebTests(ChromiumFixture chromium)
{

    [Fact]
    public async Task BrowserPage_CallsTheGatewayWithGrpcWeb_AndShowsTheAnswerAndAStatus()
    {
        using var data = new TempDirectory();
        using var pages = PageServer.Start();
        await using var silo = await SiloProcess.StartAsync(data.Path, "--nodes", "3", "--Xmbl:Gateway:Grpc:WebOrigins:0", pages.Origin);
        var page = await chromium.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) => errors.Add(message.Text);

        var gateway = silo.BaseAddress.ToString().TrimEnd('/');
        await page.GotoAsync($"{pages.Origin}/grpc-web.html?gateway={Uri.EscapeDataString(gateway)}");

        await page.WaitForConditionAsync(async () => await page.Locator("#missing").TextContentAsync() != "…" || errors.Count > 0, TimeSpan.FromSeconds(30));
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        await Assertions.Expect(page.Locator("#nodes")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#grpc")).ToHaveTextAsync(silo.GrpcAddress);
        await Assertions.Expect(page.Locator("#missing")).ToHaveTextAsync("status 5: No job no-such-job.");
    }

    [Fact]
    public async Task BrowserPage_OfAnOriginNotConfigured_IsRefusedByCors()
    {
        using var data = new TempDirectory();
        using var pages = PageServer.Start();
        await using var silo = await SiloProcess.StartAsync(data.Path, "--nodes", "1", "--Xmbl:Gateway:Grpc:WebOrigins:0", "http://127.0.0.1:1");
        var page = await chromium.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);

        await page.GotoAsync($"{pages.Origin}/grpc-web.html?gateway={Uri.EscapeDataString(silo.BaseAddress.ToString().TrimEnd('/'))}");

        // fetch rejects (TypeError: Failed to fetch): the page shows nothing and reports the error.
        await page.WaitForConditionAsync(() => Task.FromResult(errors.Count > 0), TimeSpan.FromSeconds(30));
        await Assertions.Expect(page.Locator("#nodes")).ToHaveTextAsync("…");
    }
}

/// <summary>Serves pages/ on a loopback port of its own: another origin than the gateway's, in the same (loopback) address space.</summary>
internal sealed class PageServer : IDisposable
{
    private readonly System.Net.HttpListener _listener = new();

    private PageServer(int port)
    {
        Origin = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Origin + "/");
        _listener.Start();
        _ = ServeAsync();
    }

    public string Origin { get; }

    public static PageServer Start() => new(TcpPorts.Free());

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            System.Net.HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is System.Net.HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var file = Path.Combine(AppContext.BaseDirectory, "pages", Path.GetFileName(context.Request.Url!.AbsolutePath));
            if (File.Exists(file))
            {
                context.Response.ContentType = "text/html; charset=utf-8";
                var bytes = await File.ReadAllBytesAsync(file);
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            else
            {
                // The browser's favicon request included: no icon, and no error in the page's console either.
                context.Response.StatusCode = Path.GetFileName(file) == "favicon.ico" ? 204 : 404;
            }

            context.Response.Close();
        }
    }
}

internal static class PageExtensions
{
    public static async Task WaitForConditionAsync(this IPage page, Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out on {page.Url}.");
            await Task.Delay(100);
        }
    }
}
