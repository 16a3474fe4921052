using Microsoft.Playwright;

namespace Xmbl.Cluster.Browser.Tests;

/// <summary>
/// One headless Chromium per test collection: Debian's <c>chromium</c> package, launched by Playwright through its
/// <c>ExecutablePath</c>, so no browser is downloaded. Missing Chromium fails the tests with the package to install
/// (browser suites never skip silently). Pages get their own context: cookies and storage do not leak between tests.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The running browser.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium is not started.");

    /// <summary>Where screenshots are written: <c>TestResults/screenshots</c> beside the test binaries, kept as artifacts.</summary>
    public static string ScreenshotDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots")).FullName;

    /// <summary>The Chromium binary: <c>XMBL_CHROMIUM</c>, else Debian's locations.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("XMBL_CHROMIUM") is { Length: > 0 } configured ? configured
        : Candidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Chromium was not found (looked at XMBL_CHROMIUM, " + string.Join(", ", Candidates) + "); install Debian's package: apt-get install -y chromium");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // The sandbox needs user namespaces that CI containers (running as root) do not grant.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh page in its own context with the given viewport.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        return await context.NewPageAsync();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>The tests that share one Chromium.</summary>
[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Chromium";
}
