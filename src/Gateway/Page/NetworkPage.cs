using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Xmbl.Cluster.Gateway.Page;

/// <summary>
/// Serves the network page (<c>/</c>) and its two files (<c>/ui/network.css</c>, <c>/ui/network.js</c>) from resources
/// embedded in this assembly, ahead of the API's middleware: no file system, no build step, the same bytes in a silo
/// and a standalone gateway. The page references its files with <c>?v=</c> and a hash of their content, so they are
/// cached for a year and an upgrade is fetched at once; the page itself is revalidated (ETag) every time.
/// </summary>
internal sealed class NetworkPage
{
    /// <summary>Script, styles and connections only from this origin; no inline code, frames, plugins or forms.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "page/";
    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    public NetworkPage()
    {
        var css = Load("network.css", "text/css; charset=utf-8");
        var js = Load("network.js", "text/javascript; charset=utf-8");
        var html = Encoding.UTF8.GetString(Read("index.html"))
            .Replace("\"/ui/network.css\"", $"\"/ui/network.css?v={css.Version}\"", StringComparison.Ordinal)
            .Replace("\"/ui/network.js\"", $"\"/ui/network.js?v={js.Version}\"", StringComparison.Ordinal);
        var index = new Asset(Encoding.UTF8.GetBytes(html), "text/html; charset=utf-8");
        _assets["/"] = index;
        _assets["/index.html"] = index;
        _assets["/ui/network.css"] = css;
        _assets["/ui/network.js"] = js;
    }

    /// <summary>Middleware: answers GET and HEAD for the page's paths, passes everything else on.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            || !_assets.TryGetValue(request.Path.Value ?? "", out var asset))
        {
            return next(context);
        }

        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = asset.ETag;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = request.Query.TryGetValue("v", out var version) && version == asset.Version
            ? "public, max-age=31536000, immutable"
            : "no-cache";

        if (request.Headers.IfNoneMatch is { Count: > 0 } ifNoneMatch
            && EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
            && tags.Any(t => t.Compare(asset.Tag, useStrongComparison: false) || t.Equals(EntityTagHeaderValue.Any)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Body.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Body, context.RequestAborted).AsTask();
    }

    private static Asset Load(string name, string contentType) => new(Read(name), contentType);

    private static byte[] Read(string name)
    {
        using var stream = typeof(NetworkPage).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The network page's resource {ResourcePrefix}{name} is missing from {typeof(NetworkPage).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed class Asset
    {
        public Asset(byte[] body, string contentType)
        {
            Body = body;
            ContentType = contentType;
            Version = Convert.ToHexStringLower(SHA256.HashData(body))[..16];
            Tag = new EntityTagHeaderValue($"\"{Version}\"");
            ETag = Tag.ToString();
        }

        public byte[] Body { get; }

        public string ContentType { get; }

        public string Version { get; }

        public EntityTagHeaderValue Tag { get; }

        public string ETag { get; }
    }
}
