using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Browser.Tests;

/// <summary>The network page at <c>/</c>, as a person's browser sees it while the cluster changes underneath.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class NetworkPageTests(ChromiumFixture chromium)
{
    private static readonly LocatorAssertionsToHaveCountOptions Soon = new() { Timeout = 30_000 };

    [Fact]
    public async Task NetworkPage_WhileJobsRunObjectsAreStoredAndANodeStops_ShowsEachChangeLiveWithoutReload()
    {
        using var data = new TempDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path);
        var page = await chromium.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                problems.Add($"console {message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems.Add("page error: " + error);
        page.Request += (_, request) =>
        {
            var url = new Uri(request.Url);
            if (url.Scheme != "data" && url.GetLeftPart(UriPartial.Authority) != silo.BaseAddress.GetLeftPart(UriPartial.Authority))
            {
                problems.Add("request to another origin: " + request.Url);
            }
        };
        page.RequestFailed += (_, request) =>
        {
            // The event stream is cut when the page closes; anything else failing is a fault.
            if (!request.Url.EndsWith("/api/network/events", StringComparison.Ordinal))
            {
                problems.Add("failed request: " + request.Url);
            }
        };

        var response = await page.GotoAsync(silo.BaseAddress.ToString());
        Assert.NotNull(response);
        Assert.Contains("script-src 'self'", (await response.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);

        // The embedded silo's five nodes, alive, and the connection marked live.
        await Assertions.Expect(page.Locator("#nodes-table tbody tr[data-status=alive]")).ToHaveCountAsync(5, Soon);
        await Assertions.Expect(page.Locator("#conn-text")).ToHaveTextAsync("Live");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Orleans dashboard" })).ToHaveAttributeAsync("href", "/dashboard");

        // Credits from the faucet (on in embedded mode): a job holds its maximum price from its submitter.
        using (var faucet = await silo.Http.PostAsJsonAsync(new Uri("/api/faucet", UriKind.Relative), new JsonObject { ["amount"] = 1_000_000_000 }))
        {
            Assert.True(faucet.IsSuccessStatusCode, await faucet.Content.ReadAsStringAsync());
        }

        // A job submitted through the API appears, reaches validated, and shows its executor/validator timeline.
        var module = await UploadAsync(silo, "hello.wasm");
        var jobId = await SubmitAsync(silo, new JsonObject { ["module"] = module, ["validators"] = 1 });
        var row = page.Locator($"#jobs-table tr[data-job='{jobId}']");
        await Assertions.Expect(row).ToHaveCountAsync(1, Soon);
        await Assertions.Expect(row).ToHaveAttributeAsync("data-status", new System.Text.RegularExpressions.Regex("^(Validated|Settled)$"), new() { Timeout = 60_000 });
        await row.GetByRole(AriaRole.Button).ClickAsync();
        var detail = page.Locator("#job-detail-body");
        await Assertions.Expect(detail.Locator("li[data-to=Validated]")).ToHaveCountAsync(1, Soon);
        await Assertions.Expect(detail.Locator("tr[data-role=Executor]")).ToHaveCountAsync(1);
        await Assertions.Expect(detail.Locator("tr[data-role=Validator]")).ToHaveCountAsync(1);
        var job = await silo.GetJsonAsync($"/api/jobs/{jobId}");
        await Assertions.Expect(detail.Locator("[data-field=result-hash]")).ToHaveTextAsync(job.GetProperty("resultHash").GetString()!);

        // A file stored through the API appears with every shard healthy.
        using (var put = await silo.Http.PutAsync(new Uri("/api/objects/docs/report.txt", UriKind.Relative), new ByteArrayContent(Encoding.UTF8.GetBytes("quarterly figures\n"))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var objectRow = page.Locator("#objects-table tr[data-object='docs/report.txt']");
        await Assertions.Expect(objectRow).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 30_000 });
        await Assertions.Expect(objectRow).ToContainTextAsync("5 / 5");

        // The faucet's credits show in the ledger, and paying the job's nodes from its escrow created none.
        await Assertions.Expect(page.Locator("#accounts-table tbody tr").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#sum-supply")).ToHaveTextAsync("1,000.00", new() { Timeout = 30_000 });

        await page.ScreenshotAsync(new() { Path = Path.Combine(ChromiumFixture.ScreenshotDirectory, "network-desktop.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        var wider = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)" +
            ".map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')).slice(0, 12)");
        Assert.True(
            await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"),
            "The page scrolls sideways at 390 px; wider than the screen: " + string.Join(", ", wider));
        await page.ScreenshotAsync(new() { Path = Path.Combine(ChromiumFixture.ScreenshotDirectory, "network-phone.png"), FullPage = true });
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeInViewportAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(ChromiumFixture.ScreenshotDirectory, "network-phone-first-screen.png") });
        await page.SetViewportSizeAsync(1280, 800);

        // The operator stops a node: the page shows it dead (after the death timeout) and the object's shard on it unhealthy.
        var node = job.GetProperty("executor").GetString()!;
        using (var stop = await silo.Operator.PostAsync(new Uri($"/api/nodes/{Uri.EscapeDataString(node)}/stop", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        }

        var nodeRow = page.Locator($"#nodes-table tr[data-node='{node}']");
        await Assertions.Expect(nodeRow).ToHaveAttributeAsync("data-status", "dead", new() { Timeout = 60_000 });
        await Assertions.Expect(nodeRow).ToContainTextAsync("dead");
        await Assertions.Expect(objectRow).ToHaveAttributeAsync("data-health", "degraded", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(ChromiumFixture.ScreenshotDirectory, "network-node-dead.png"), FullPage = true });

        await page.Context.CloseAsync();
        Assert.Empty(problems);
    }

    private static async Task<string> UploadAsync(SiloProcess silo, string fixture)
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Fixture(fixture)));
        using var response = await silo.Http.PostAsync(new Uri("/api/modules", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"upload answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("hash").GetString()!;
    }

    private static async Task<string> SubmitAsync(SiloProcess silo, JsonObject job)
    {
        using var response = await silo.Http.PostAsJsonAsync(new Uri("/api/jobs", UriKind.Relative), job);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"submit answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "wasm", name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"Fixture {name} not found under tests/fixtures/wasm above {AppContext.BaseDirectory}.");
    }
}
