using Microsoft.Playwright;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Browser.Tests;

/// <summary>The Orleans dashboard the silo serves at <c>/dashboard</c>, as a person's browser sees it.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class DashboardTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task OrleansDashboard_OfAnEmbeddedSilo_RendersTheLiveSiloInChromium()
    {
        using var data = new TempDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path);
        var page = await chromium.NewPageAsync();
        var failed = new List<string>();
        page.RequestFailed += (_, request) => failed.Add(request.Url);

        await page.GotoAsync(new Uri(silo.BaseAddress, "/dashboard").ToString());

        // The dashboard polls the silo from script: the silo count appears once its first answer has arrived.
        await Assertions.Expect(page.GetByText("Active Silos", new() { Exact = false }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ChromiumFixture.ScreenshotDirectory, "orleans-dashboard.png"), FullPage = true });
        Assert.Empty(failed);
    }
}
